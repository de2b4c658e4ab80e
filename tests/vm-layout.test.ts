// The cgroup layout the tests run on, on the host and inside each test-vms
// guest: the test-support layout helpers agree with the kernel, a guest
// has the layout its profile promises, and a memory limit really OOM-kills
// (memory.max on cgroup2, memory.limit_in_bytes on v1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { cgroupController, cgroupLayout, cgroupMounts, isRoot, skip, vmProfile } from '../test-support';

const profile = vmProfile();
const cgroupLines = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l));
/** Controllers the kernel has enabled (fourth column of /proc/cgroups). */
const kernelControllers = () =>
  readFileSync('/proc/cgroups', 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter((f) => f[3] === '1')
    .map((f) => f[0]);

test('cgroupMounts() lists every cgroup mount of /proc/self/mountinfo', () => {
  const m = cgroupMounts();
  const lines = cgroupLines();
  const v2 = lines.filter((l) => / - cgroup2 /.test(l)).map((l) => l.split(' ')[4]);
  assert.is(m.v2, v2[0] ?? null);
  const v1Points = new Set(lines.filter((l) => / - cgroup /.test(l)).map((l) => l.split(' ')[4]));
  assert.equal(new Set(Object.values(m.v1)), v1Points);
  if (m.v2) assert.equal(m.v2Controllers, readFileSync(join(m.v2, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean));
  const layout = cgroupLayout();
  assert.is(layout, v1Points.size && m.v2 ? 'hybrid' : m.v2 ? 'unified' : 'legacy');
  // every controller the kernel offers is usable somewhere, or the host says why not
  for (const c of ['cpu', 'memory', 'pids']) assert.ok(cgroupController(c), `${c} has no hierarchy`);
});

test('a test-vms guest has the layout of its profile', () => {
  if (!profile) {
    skip('guest layout', 'not inside a test-vms guest (CTR_VM_PROFILE unset)');
    return;
  }
  const m = cgroupMounts();
  assert.is(hostname(), `ctr-vm-${profile}`);
  if (profile === 'v2') {
    assert.is(cgroupLayout(), 'unified');
    assert.is(m.v2, '/sys/fs/cgroup');
    assert.equal(Object.keys(m.v1), []);
    for (const c of ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids']) assert.ok(m.v2Controllers.includes(c), `cgroup2 lacks ${c}: ${m.v2Controllers}`);
    const subtree = readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').trim().split(/\s+/);
    assert.equal([...subtree].sort(), [...m.v2Controllers].sort());
  } else if (profile === 'v1') {
    assert.is(cgroupLayout(), 'legacy');
    assert.is(m.v2, null);
    for (const c of kernelControllers()) assert.is(m.v1[c], `/sys/fs/cgroup/${c}`, `v1 ${c}`);
    assert.is(m.v1['name=systemd'], '/sys/fs/cgroup/systemd');
  } else {
    assert.is(cgroupLayout(), 'hybrid');
    assert.is(m.v2, '/sys/fs/cgroup/unified');
    for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids']) assert.is(m.v1[c], `/sys/fs/cgroup/${c}`);
  }
  // the API file systems a container runtime expects
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]);
  for (const p of ['/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/tmp', '/run']) assert.ok(points.includes(p), `${p} not mounted`);
});

test('a 5 MB memory limit OOM-kills a 50 MB allocation and the kernel counts it', () => {
  if (!isRoot) {
    skip('memory limit', 'needs root');
    return;
  }
  const mem = cgroupController('memory');
  if (!mem) {
    skip('memory limit', 'no memory controller on any hierarchy');
    return;
  }
  const dir = join(mem.path, `ctrtest-vms-${process.pid}`);
  mkdirSync(dir);
  try {
    if (mem.version === 2) {
      const parentSubtree = readFileSync(join(mem.path, 'cgroup.subtree_control'), 'utf8');
      if (!parentSubtree.split(/\s+/).includes('memory')) writeFileSync(join(mem.path, 'cgroup.subtree_control'), '+memory');
      writeFileSync(join(dir, 'memory.max'), String(5 * 1024 * 1024));
      writeFileSync(join(dir, 'memory.swap.max'), '0');
    } else {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(5 * 1024 * 1024));
    }
    // the shell moves itself in, then dd touches a 50 MB buffer
    const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=50M count=1`], { encoding: 'utf8' });
    assert.is(r.signal, 'SIGKILL', `dd was not OOM-killed: status ${r.status} ${r.stderr}`);
    if (mem.version === 2) {
      const events = readFileSync(join(dir, 'memory.events'), 'utf8');
      assert.match(events, /^oom_kill 1$/m);
    } else {
      assert.match(readFileSync(join(dir, 'memory.oom_control'), 'utf8'), /^oom_kill 1$/m);
      assert.ok(Number(readFileSync(join(dir, 'memory.failcnt'), 'utf8')) > 0);
    }
  } finally {
    rmdirSync(dir);
  }
  assert.not.ok(existsSync(dir), 'cgroup left behind');
});

test.run();
