import { CtrError } from '@ctr/common';
import { Container, RuntimeError } from '@ctr/runtime';

const rootfs = '.cache/rootfs/busybox'; // any directory with a root filesystem

// create: the container is set up (namespaces, cgroup, mounts, seccomp) and waits at the gate
const c = await Container.create({ id: `hello-${process.pid}`, rootfs, args: ['echo', 'hello'], stdio: ['ignore', 'inherit', 'inherit'] });
await c.start(); // exec
const { exitCode } = await c.wait();
await c.delete(); // cgroup, state directory: gone
console.log('exit', exitCode);

// Errors are data: a stable code, the field or path at fault, the errno.
try {
  await Container.create({ id: 'bad id!', rootfs, args: ['true'] });
} catch (e) {
  if (e instanceof RuntimeError) console.log(e.code); // 'ERUNTIME_INVALID_ID'
  if (e instanceof CtrError) console.log(e.path, e.errno);
}
