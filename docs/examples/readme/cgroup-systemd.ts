import { Cgroup } from '@ctr/cgroup';
import { spawn } from 'node:child_process';

// ctr-abc.scope in system.slice: /sys/fs/cgroup/system.slice/ctr-abc.scope
const cg = await Cgroup.create('system.slice:ctr:abc', { memory: { max: '64m' } }, { backend: 'systemd' });
console.log(cg.systemdUnit, cg.dirs); // 'ctr-abc.scope' [ '/sys/fs/cgroup/system.slice/ctr-abc.scope' ]
const child = spawn('sleep', ['60']);
await cg.addProcess(child.pid!);
await cg.delete({ kill: true }); // kills, then StopUnit and ResetFailedUnit
