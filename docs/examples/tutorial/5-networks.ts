import { run } from '@ctr/ns';
import { NetNS } from '@ctr/netns';
import { isEntry, type Log } from './log.js';

// (5) Two networks with two containers each, and a router between them.
// Each network is a bridge inside the router's namespace, each container a
// namespace with a veth leg on one bridge. Nothing touches the host.
export async function main(log: Log = console.log) {
  const router = await NetNS.create();
  const containers: NetNS[] = [];
  const networks = { front: '10.1.1', back: '10.1.2' }; // private to these namespaces
  // `ping` from inside a namespace: one packet, one second, `tries` times
  // (a link just set up may drop the first).
  const inside = (ns: NetNS) => ({ join: { net: `/proc/${process.pid}/fd/${ns.fd}` } });
  const ping = async (from: NetNS, to: string, tries = 3) => {
    for (let i = 0; i < tries; i++) if ((await run('busybox', ['ping', '-c', '1', '-W', '1', to], inside(from))).exitCode === 0) return true;
    return false;
  };
  try {
    for (const [name, net] of Object.entries(networks)) {
      await router.createBridge(name);
      await router.addAddress(name, `${net}.1/24`);
      await router.up(name);
    }
    // A container on a network: a veth pair, one end on the bridge, the
    // other (eth0) in the container with an address and a default route.
    const container = async (network: keyof typeof networks, host: number) => {
      const ns = await NetNS.create();
      containers.push(ns);
      const leg = `${network}${host}`;
      await router.createVeth(leg, 'eth0', { peerNetns: ns });
      await router.setLink(leg, { master: network, up: true });
      await ns.addAddress('eth0', `${networks[network]}.${host}/24`);
      await ns.up('eth0');
      await ns.addRoute({ gateway: `${networks[network]}.1` });
      return ns;
    };
    const [a1, b1, b2] = [await container('front', 2), await container('back', 2), await container('back', 3)];
    await container('front', 3); // a2: only pinged
    log('front 10.1.1.0/24: a1 .2, a2 .3; back 10.1.2.0/24: b1 .2, b2 .3; the router is .1 on both');

    // A new namespace does not forward (net.ipv4.ip_forward is 0): the networks are isolated.
    const before = { a1a2: await ping(a1, '10.1.1.3'), b1b2: await ping(b1, '10.1.2.3'), a1b1: await ping(a1, '10.1.2.2', 1) };
    log(`same network: a1 -> a2 ${before.a1a2 ? 'ok' : 'FAILS'}, b1 -> b2 ${before.b1b2 ? 'ok' : 'FAILS'}; across: a1 -> b1 ${before.a1b1 ? 'ok' : 'blocked'}`);

    // Turn the router on: a sysctl of its own namespace, not the host's.
    await run('sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'], inside(router));
    const after = { a1b1: await ping(a1, '10.1.2.2'), b2a2: await ping(b2, '10.1.1.3') };
    const trace = await run('busybox', ['traceroute', '-n', '-q', '1', '-w', '1', '-m', '3', '10.1.2.2'], inside(a1));
    const routes = (await a1.routes()).filter((r) => !r.v6).map((r) => `${r.destination ?? 'default'} via ${r.gateway ?? 'link'}`);
    log(`router on: a1 -> b1 ${after.a1b1 ? 'ok' : 'FAILS'}, b2 -> a2 ${after.b2a2 ? 'ok' : 'FAILS'}`);
    log(`a1's routes: ${routes.join('; ')}\n$ traceroute 10.1.2.2\n${trace.stdout.trimEnd()}`);
    return { before, after, routes, traceroute: trace.stdout };
  } finally {
    // Closing the last fd of a namespace destroys it, with its veths and bridges.
    for (const ns of containers) ns.close();
    router.close();
  }
}

if (isEntry(import.meta.url)) await main();
