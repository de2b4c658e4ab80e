import { Cgroup } from '@ctr/cgroup';
import { spawn } from '@ctr/ns';

// from the hierarchy root; a relative 'job-1' needs { relativeTo: 'own-cgroup' }
const cg = await Cgroup.create('/job-1', {
  memory: { max: '5m' },       // or the OCI shape: { limit: 5000000 }
  pids: { max: 10 },
  cpu: { limit: 0.2 },         // 20% of one cpu; or { quota: 20000, period: 100000 }
});

cg.on('oom_kill', (e) => console.log('oom killed', e.total));
// A 50 MB allocation, moved into the cgroup while it waits before exec: killed.
const child = spawn('busybox', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=50M', 'count=1'], { hold: true });
await child.spawned;
await cg.addProcess(child.pid);
await child.release();
await child.exited;            // { exitCode: null, signal: 'SIGKILL' }

const s = await cg.stats();    // same shape on v1 and v2
console.log(s.memory.current, s.memory.oomKill, s.cpu.usageUsec, s.pids.current);

await cg.freeze(); await cg.thaw();
await cg.killAll();            // SIGKILL until empty
await cg.delete({ kill: true }); // every hierarchy, children included
