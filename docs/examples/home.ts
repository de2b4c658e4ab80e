import { run } from '@ctr/runtime';

// A busybox root filesystem, 5 MB of memory, Docker's seccomp profile, no network.
const r = await run({
  rootfs: '.cache/rootfs/busybox',
  args: ['sh', '-c', 'echo hello from $(hostname); tail /dev/zero'],
  hostname: 'box',
  limits: { memory: '5m', pids: 10 },
  seccomp: 'default',
});
console.log(r.stdout, r.oom, r.signal); // 'hello from box\n' true 'SIGKILL'
