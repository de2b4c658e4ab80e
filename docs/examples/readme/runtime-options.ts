import { BridgeNetwork } from '@ctr/netns';
import { Container, run } from '@ctr/runtime';
import { SeccompAgent } from '@ctr/seccomp';

const rootfs = '/path/to/busybox';

// The rootfs is never written by default: read-only (with a fresh tmpfs /tmp),
// or an overlay per container whose writes go when it is deleted.
await run({ rootfs, args: ['touch', '/x'] });                          // exitCode 1: read-only file system
await run({ rootfs: { path: rootfs, overlay: true }, args: ['touch', '/x'] }); // 0; /x never reaches the host dir
await run({ rootfs: { path: rootfs, readonly: false }, args: ['true'] });      // opt in to writing the host directory

// Network modes: 'none' (new namespace, lo down: the default), 'loopback'
// (lo up), 'host' (the host's network), or a @ctr/netns bridge with ports.
await run({ rootfs, args: ['ip', 'link'], network: 'loopback' });

const net = await BridgeNetwork.create({ name: 'ctr0', subnet: '10.88.0.0/24' });
const web = await Container.create({
  id: 'web', rootfs, args: ['httpd', '-f', '-p', '80'],
  network: { bridge: net, ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
});
web.network!.address;  // '10.88.0.2' (eth0 in the container, default route via 10.88.0.1)
await web.start();     // http://127.0.0.1:8080 on the host reaches it
await run({ rootfs, args: ['wget', '-qO-', `http://${web.network!.address}`], network: { bridge: 'ctr0' } });
await web.delete({ force: true }); // container, veth pair, published ports, lease: gone
await net.delete();

// Limits in readable units -> linux.resources; an OOM kill is reported.
const r = await run({ rootfs, args: ['tail', '/dev/zero'], limits: { memory: '5m', pids: 10, cpu: 0.5 } });
r.signal; r.status; r.oom; // 'SIGKILL', 137, true

// Seccomp: 'default' (Docker's profile), a @ctr/seccomp Profile, or an OCI object -> linux.seccomp.
await run({ rootfs, args: ['true'], seccomp: 'default' });

// Seccomp notify: an agent (here @ctr/seccomp's, in this process) decides mkdir.
const agent = SeccompAgent.listen('/run/my-agent.sock');
agent.accept().then(async ({ listener }) => {
  for await (const req of listener) {
    if (req.readString(0).startsWith('/tmp/no')) req.respondErrno(13); // EACCES
    else req.respondContinue(); // the kernel runs the call
  }
});
await run({ rootfs, args: ['mkdir', '/tmp/no'], seccomp: {
  defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/my-agent.sock',
  syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
} }); // exitCode 1: permission denied
agent.close();

// AbortSignal: the container is killed and deleted, run() rejects with ERUNTIME_ABORTED.
await run({ rootfs, args: ['sleep', '100'], signal: AbortSignal.timeout(1000) });
