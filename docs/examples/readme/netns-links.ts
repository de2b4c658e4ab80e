import { NetNS } from '@ctr/netns';

const ns = await NetNS.create();
const other = await NetNS.create();
await ns.createBridge('br0', { mtu: 1400 });
await ns.createVeth('va', 'vb', { peerNetns: other, mac: '02:00:00:00:00:01' });
await ns.createMacvlan('mv0', 'va');
await ns.createDummy('d0');                   // needs the kernel's dummy driver
await ns.setLink('va', { up: true, mtu: 1400, master: 'br0', name: 'veth0' });
await ns.setLink('veth0', { master: null });  // release from the bridge
await ns.moveLink('mv0', other);              // or a pid
await ns.addAddress('veth0', '10.0.0.2/24');
await ns.addAddress('veth0', 'fd00::2/64');
await ns.addRoute({ gateway: '10.0.0.1' });   // default route
await ns.addRoute({ destination: '10.1.0.0/16', dev: 'veth0' });
await ns.loopbackUp();
await ns.links(); await ns.addresses('veth0'); await ns.routes();
await ns.deleteLink('veth0');
