import { BridgeNetwork, NetNS, loopbackOnly } from '@ctr/netns';

// A named namespace, /run/netns/blue: `ip netns list` and `ip netns exec blue ...` see it.
const blue = await NetNS.create('blue');
(await blue.links()).map((l) => [l.name, l.up]); // [['lo', false]]

// A bridged network with NAT for traffic leaving 10.88.0.0/24.
const net = await BridgeNetwork.create({ name: 'ctr0', subnet: '10.88.0.0/24' }); // gateway 10.88.0.1
const lease = await net.attach(blue, {
  ifname: 'eth0',
  ports: [{ hostPort: 8080, containerPort: 80 }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }],
});
lease.address; // '10.88.0.2' — eth0 up, lo up, default route via 10.88.0.1
// curl http://127.0.0.1:8080 on the host now reaches port 80 inside `blue`.

// Networks are isolated from each other until connected.
const other = await BridgeNetwork.create({ name: 'ctr1', subnet: '10.89.0.0/24' });
await net.connect(other);   // ...and net.disconnect(other)
await other.delete();

await net.detach(lease); // ports, veth pair, address, route, lease: gone
await net.prune();       // leases of namespaces that died without detach: freed
await net.delete();      // nft table `ip ctr-ctr0`, bridge, state: gone
await blue.delete();     // unmount + unlink /run/netns/blue

// Other processes can open the same network and attach concurrently:
// addresses come from a lease file under /run/ctr/netns/<name>/ guarded by flock.
const same = await BridgeNetwork.open('ctr0');
