// Run where libnftables.so.1 cannot be opened (dry-run.mjs covers it with
// an empty file in a private mount namespace): @ctr/runtime and @ctr/netns
// install and load, a container runs, and only NAT asks for the library,
// with a coded error naming it, leaving nothing behind.
const { run } = require('@ctr/runtime');
const { BridgeNetwork } = require('@ctr/netns');
const { existsSync } = require('node:fs');

(async () => {
  const r = await run({ rootfs: process.env.CTR_ROOTFS, args: ['sh', '-c', 'echo no nft needed'] });
  if (r.exitCode !== 0 || r.stdout !== 'no nft needed\n') throw new Error(`container said ${JSON.stringify(r)}`);
  const name = `crl${process.pid % 1000000}`;
  const e = await BridgeNetwork.create({ name, subnet: `10.251.${process.pid % 250}.0/24` }).then(
    (n) => n.delete().then(() => new Error('a bridge network with NAT was created without libnftables')),
    (x) => x,
  );
  if (e.code !== 'ENETNS_NFT_MISSING' || !e.message.includes('libnftables.so.1') || !e.message.includes('libnftables1')) throw e;
  if (existsSync(`/sys/class/net/${name}`)) throw new Error(`bridge ${name} left behind`);
  console.log(JSON.stringify({ check: 'no-libnftables', code: e.code, message: e.message }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
