import { NetNS, loopbackOnly } from '@ctr/netns';

const anon = await NetNS.create();            // anonymous, lives while the fd is open
const byName = await NetNS.open('blue');      // /run/netns/blue
const byPath = await NetNS.open('/proc/1234/ns/net');
const byPid = await NetNS.open({ pid: 1234 });
const host = await NetNS.host();              // "join the host network" mode
const lo = await loopbackOnly();              // loopback-only mode: new namespace, lo up
await NetNS.list();                           // names under /run/netns
anon.fd; anon.inode;                          // hand the fd to setns(2) users
anon.path;                                    // /run/ctr/netns/.anon/...: `nsenter --net=PATH`, CNI
anon.close();                                 // the path goes with it
