import { run } from '@ctr/ns';
import { NetNS } from '@ctr/netns';
import { isEntry, type Log } from './log.js';

// (2) A new network namespace has one interface, the loopback, and it is down.
export async function main(log: Log = console.log) {
  // With `ip link` run inside a new net namespace...
  const r = await run('ip', ['-brief', 'link'], { namespaces: ['net'] });
  log(`$ ip -brief link\n${r.stdout.trimEnd()}`);
  // ... and with @ctr/netns, which speaks netlink itself.
  const ns = await NetNS.create();
  try {
    const links = (await ns.links()).map((l) => ({ name: l.name, up: l.up }));
    log(`NetNS.create().links() -> ${JSON.stringify(links)}`);
    return { ipLink: r.stdout, links };
  } finally {
    ns.close();
  }
}

if (isEntry(import.meta.url)) await main();
