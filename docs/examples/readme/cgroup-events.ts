import { Cgroup } from '@ctr/cgroup';

const cg = await Cgroup.open('/job-1');
const ac = new AbortController();
for await (const e of cg.events({ signal: ac.signal })) {
  if (e.type === 'oom_kill') console.log('killed');
  if (e.type === 'empty') break;
}
