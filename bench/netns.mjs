// Attach + detach of a bridged, named namespace with one published port:
// through @ctr/netns (netlink + libnftables in-process) against the same
// steps done by running `ip` and `nft` from Node. Needs root and a built
// packages/netns (pnpm --filter @ctr/netns run build).
// Usage: node bench/netns.mjs [iterations]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { BridgeNetwork, NetNS } = require('../packages/netns/dist/index.cjs');

const N = Number(process.argv[2] ?? 30);
const P = `ctb${process.pid % 100000}`;
const X = 20 + ((process.pid + 31) % 200);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const net = await BridgeNetwork.create({ name: `${P}n`, subnet: `10.231.${X}.0/24` });
const api = { attach: [], detach: [], total: [] };
const cli = { attach: [], detach: [], total: [] };
try {
  for (let i = 0; i < N; i++) {
    // Through the API.
    let t = performance.now();
    const ns = await NetNS.create(`${P}-api`);
    const lease = await net.attach(ns, { ports: [{ hostPort: 30000 + (process.pid % 20000), containerPort: 80 }] });
    let m = performance.now();
    await net.detach(lease);
    await ns.delete();
    let e = performance.now();
    api.attach.push(m - t);
    api.detach.push(e - m);
    api.total.push(e - t);

    // The same with ip and nft commands (address chosen by hand: no allocator).
    t = performance.now();
    const name = `${P}-cli`;
    const ip = `10.231.${X}.200`;
    const table = `ctr-${net.name}`;
    const elem = `{ ${30000 + (process.pid % 20000)} : ${ip} . 80 }`;
    run('ip', ['netns', 'add', name]);
    run('ip', ['link', 'add', `${P}h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
    run('ip', ['link', 'set', `${P}h`, 'master', net.bridge, 'up']);
    run('ip', ['-n', name, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    run('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', name, 'route', 'add', 'default', 'via', net.gateway]);
    run('nft', ['add', 'element', 'ip', table, 'tcp_ports', elem]);
    m = performance.now();
    run('nft', ['delete', 'element', 'ip', table, 'tcp_ports', elem]);
    run('ip', ['link', 'del', `${P}h`]);
    run('ip', ['netns', 'del', name]);
    e = performance.now();
    cli.attach.push(m - t);
    cli.detach.push(e - m);
    cli.total.push(e - t);
  }
} finally {
  await net.delete();
}
console.log(`named netns + veth on the bridge + address + lo up + default route + 1 published port; ${N} runs, medians`);
console.log('phase            @ctr/netns   ip+nft cmds   ratio');
for (const k of ['attach', 'detach', 'total']) {
  const a = median(api[k]);
  const c = median(cli[k]);
  console.log(`${k.padEnd(16)} ${a.toFixed(2).padStart(8)} ms ${c.toFixed(2).padStart(10)} ms ${(c / a).toFixed(1).padStart(6)}x`);
}
console.log('(detach is bounded by the kernel: deleting a veth waits ~20 ms for the device to unregister, in both columns)');
