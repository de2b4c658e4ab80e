import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { run, spawn, NsError } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot, eventually, processExited } from '../../../test-support';

const before = snapshot();
const status = (out: string, key: string) => (out.match(new RegExp(`^${key}:\\s*(.*)$`, 'm')) ?? [])[1];

test('capabilities: the five sets are exactly what was asked', async () => {
  if (!isRoot) return skip('caps', 'needs root');
  const r = await run('cat', ['/proc/self/status'], {
    capabilities: {
      bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL', 'CAP_CHOWN'],
      effective: ['CAP_NET_BIND_SERVICE', 'kill'],
      permitted: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    },
  });
  assert.is(r.exitCode, 0, r.stderr);
  // bits: chown 0, kill 5, net_bind_service 10. A root program gets its
  // whole bounding set as permitted and effective at exec (the kernel's
  // rule for uid 0); everything outside the bounding set is gone.
  const bnd = (1 + (1 << 5) + (1 << 10)).toString(16).padStart(16, '0');
  assert.is(status(r.stdout, 'CapBnd'), bnd);
  assert.is(status(r.stdout, 'CapPrm'), bnd);
  assert.is(status(r.stdout, 'CapEff'), bnd);
  assert.is(status(r.stdout, 'CapInh'), (1 << 10).toString(16).padStart(16, '0'));
  assert.is(status(r.stdout, 'CapAmb'), (1 << 10).toString(16).padStart(16, '0'));
});

test('a non-root uid keeps only its ambient capabilities; uid, gid, groups and umask apply', async () => {
  if (!isRoot) return skip('creds', 'needs root');
  const r = await run('sh', ['-c', 'id -u; id -g; id -G; umask; grep -E "^Cap(Eff|Amb)" /proc/self/status'], {
    uid: 1234,
    gid: 2345,
    groups: [2345, 3456, 4567],
    umask: 0o027,
    capabilities: { bounding: ['NET_RAW'], permitted: ['NET_RAW'], inheritable: ['NET_RAW'], effective: ['NET_RAW'], ambient: ['NET_RAW'] },
  });
  assert.is(r.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], '1234');
  assert.is(lines[1], '2345');
  assert.equal(lines[2].split(' ').sort(), ['2345', '3456', '4567']);
  assert.is(lines[3], '0027');
  assert.is(status(r.stdout, 'CapEff'), (1 << 13).toString(16).padStart(16, '0'));
  assert.is(status(r.stdout, 'CapAmb'), (1 << 13).toString(16).padStart(16, '0'));
});

test('an unknown capability name is a coded error naming the set', () => {
  assert.throws(
    () => spawn('true', [], { capabilities: { bounding: ['CAP_CHOWN', 'CAP_FLY'] } }),
    (e: NsError) => e.code === 'ENS_UNKNOWN_CAPABILITY' && e.path === 'capabilities.bounding' && /CAP_FLY/.test(e.message),
  );
});

test('no_new_privs, rlimits, oom_score_adj and domainname are applied', async () => {
  if (!isRoot) return skip('process', 'needs root');
  const ownOom = readFileSync('/proc/self/oom_score_adj', 'utf8');
  const r = await run('sh', ['-c', 'grep NoNewPrivs /proc/self/status; ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj; domainname; hostname'], {
    namespaces: ['uts'],
    hostname: 'h1',
    domainname: 'ctr.example',
    noNewPrivileges: true,
    oomScoreAdj: 555,
    rlimits: [
      { type: 'RLIMIT_NOFILE', soft: 321, hard: 654 },
      { type: 'core', soft: Infinity, hard: Infinity },
    ],
  });
  assert.is(r.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0].replace(/\s+/, ' '), 'NoNewPrivs: 1');
  assert.is(lines[1], '321');
  assert.is(lines[2], '654');
  assert.is(lines[3], 'unlimited');
  assert.is(lines[4], '555');
  assert.is(lines[5], 'ctr.example');
  assert.is(lines[6], 'h1');
  // Applied to the child only (a child sharing our mm would change ours too).
  assert.is(readFileSync('/proc/self/oom_score_adj', 'utf8'), ownOom);
});

test('an rlimit the kernel refuses names the step', async () => {
  if (!isRoot) return skip('rlimit error', 'needs root');
  const child = spawn('true', [], { stdio: 'ignore', rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1 << 30, hard: 1 << 30 }] });
  const err = await child.spawned.then(() => null, (e: NsError) => e);
  assert.is(err?.code, 'ENS_RLIMIT');
  assert.is(err?.syscall, 'prlimit64');
  assert.is(err?.errno, 1);
  assert.throws(() => spawn('true', [], { rlimits: [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }] }), (e: NsError) => e.path === 'rlimits[0].type');
});

test('the child is non-dumpable until exec (a capability-less root cannot read it), dumpable after', async () => {
  if (!isRoot) return skip('dumpable', 'needs root');
  // Both without capabilities, so only dumpability decides (a target with
  // more capabilities than the reader would be refused anyway).
  const held = spawn('sleep', ['30'], { stdio: 'ignore', hold: true, capabilities: {} });
  await held.spawned;
  const peek = () => run('sh', ['-c', `cat /proc/${held.pid}/environ > /dev/null && echo readable || echo refused`], { capabilities: {} });
  try {
    assert.is((await peek()).stdout.trim(), 'refused');
    await held.release();
    assert.is((await peek()).stdout.trim(), 'readable');
  } finally {
    held.kill('SIGKILL');
    await held.exited;
  }
});

function cgroup2Root(): string | null {
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    const dash = f.indexOf('-');
    if (dash > 0 && f[dash + 1] === 'cgroup2') return f[4];
  }
  return null;
}

test('cgroup: cgroup2 through CLONE_INTO_CGROUP, a v1 hierarchy by the child itself, before the program runs', async () => {
  if (!isRoot) return skip('cgroup', 'needs root');
  const name = `ctrtest-ns-${process.pid}`;
  const dirs: string[] = [];
  const v2 = cgroup2Root();
  if (v2) dirs.push(`${v2}/${name}`);
  const v1 = existsSync('/sys/fs/cgroup/pids/tasks') ? `/sys/fs/cgroup/pids/${name}` : null;
  if (v1) dirs.push(v1);
  if (!dirs.length) return skip('cgroup', 'no writable cgroup hierarchy');
  for (const d of dirs) mkdirSync(d);
  try {
    const r = await run('cat', ['/proc/self/cgroup'], { cgroup: dirs });
    assert.is(r.exitCode, 0, r.stderr);
    if (v2) assert.match(r.stdout, new RegExp(`^0::/${name}$`, 'm'));
    if (v1) assert.match(r.stdout, new RegExp(`:pids:/${name}$`, 'm'));
    const missing = (() => {
      try {
        spawn('true', [], { cgroup: `/sys/fs/cgroup/ctr-no-such-${name}` });
        return null;
      } catch (e) {
        return e as NsError;
      }
    })();
    assert.is(missing?.code, 'ENS_CGROUP');
  } finally {
    for (const d of dirs) rmdirSync(d);
  }
});

test('cgroup: the child moves itself into v1 hierarchies first, so a new cgroup namespace is rooted there', async () => {
  if (!isRoot) return skip('cgroup v1 + cgroupns', 'needs root');
  const name = `ctrtest-nscg-${process.pid}`;
  const v1 = ['pids', 'memory', 'freezer'].map((h) => `/sys/fs/cgroup/${h}`).filter((d) => existsSync(`${d}/tasks`));
  if (!v1.length) return skip('cgroup v1 + cgroupns', 'no cgroup v1 hierarchy (pure cgroup2 host)');
  if (!existsSync('/proc/self/ns/cgroup')) return skip('cgroup v1 + cgroupns', 'no cgroup namespaces');
  const dirs = v1.map((d) => `${d}/${name}`);
  for (const d of dirs) mkdirSync(d);
  try {
    // The child's own thread is in each (tasks), and inside its cgroup
    // namespace each of these hierarchies reads "/".
    const r = await run('sh', ['-c', 'cat /proc/self/cgroup; echo tasks; for d in "$@"; do cat $d/tasks; done; echo self=$$', 'sh', ...dirs], { cgroup: dirs, namespaces: ['cgroup'] });
    assert.is(r.exitCode, 0, r.stderr);
    for (const d of v1) {
      const h = d.split('/').pop();
      assert.match(r.stdout, new RegExp(`^\\d+:${h}:/$`, 'm'), `${h} in:\n${r.stdout}`);
    }
    const self = r.stdout.match(/^self=(\d+)$/m)?.[1];
    const tasks = r.stdout.split('\ntasks\n')[1];
    // No pid namespace here: $$ is the pid the tasks files list.
    assert.ok(self && tasks.split('\n').filter((l) => l === self).length === dirs.length, `pid ${self} in each tasks file:\n${tasks}`);
  } finally {
    for (const d of dirs) rmdirSync(d);
  }
});

test('cgroup: a v1 hierarchy that refuses the move fails the spawn with the errno and the file, leaving nothing', async () => {
  if (!isRoot) return skip('cgroup v1 refused', 'needs root');
  const cpuset = '/sys/fs/cgroup/cpuset';
  if (!existsSync(`${cpuset}/tasks`)) return skip('cgroup v1 refused', 'no cgroup v1 cpuset hierarchy');
  // A new cpuset has no cpus until they are written: the kernel refuses
  // any task (ENOSPC).
  const dir = `${cpuset}/ctrtest-nscg-empty-${process.pid}`;
  mkdirSync(dir);
  try {
    if (readFileSync(`${dir}/cpuset.cpus`, 'utf8').trim() !== '') return skip('cgroup v1 refused', 'a new cpuset inherits cpus here (cgroup.clone_children)');
    const child = spawn('true', [], { stdio: 'ignore', cgroup: [dir] });
    const err = await child.spawned.then(() => null, (e: NsError) => e);
    assert.is(err?.code, 'ENS_CGROUP');
    assert.is(err?.syscall, 'write');
    assert.is(err?.errno, 28);
    assert.is(err?.path, `${dir}/tasks`);
    assert.match(err?.message ?? '', `${dir}/tasks`);
    assert.is(readFileSync(`${dir}/tasks`, 'utf8'), '');
  } finally {
    rmdirSync(dir);
  }
});

test('fds other than stdio are not inherited, even ones without close-on-exec', async () => {
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync('/etc/hostname', 'r');
  try {
    const r = await run('sh', ['-c', 'ls /proc/self/fd']);
    const fds = r.stdout.trim().split('\n').map(Number).filter((n) => n > 2);
    assert.ok(fds.length <= 1 && !fds.includes(fd), `inherited: ${fds}`);
  } finally {
    closeSync(fd);
  }
});

test('extraFds become fds 3, 4 in the child, nothing else is passed', async () => {
  const { openSync, closeSync } = await import('node:fs');
  const a = openSync('/etc/hostname', 'r');
  const b = openSync('/proc/self/cmdline', 'r');
  const c = openSync('/etc/passwd', 'r');
  try {
    const r = await run('sh', ['-c', 'readlink /proc/self/fd/3 /proc/self/fd/4; ls /proc/self/fd | sort -n | tr "\\n" " "'], { extraFds: [b, a] });
    assert.is(r.exitCode, 0, r.stderr);
    const [fd3, fd4, list] = r.stdout.split('\n');
    assert.match(fd3, /^\/proc\/\d+\/cmdline$/);
    assert.is(fd4, '/etc/hostname');
    const fds = list.trim().split(' ').map(Number);
    assert.ok(fds.includes(3) && fds.includes(4) && !fds.includes(c), `fds: ${fds}`);
    assert.ok(fds.filter((f) => f > 4).length <= 1, `fds: ${fds}`);
    assert.throws(() => spawn('true', [], { extraFds: [987654] }), (e: NsError) => e.path === 'extraFds[0]');
  } finally {
    for (const fd of [a, b, c]) closeSync(fd);
  }
});

test('parentDeathSignal: the child is killed when the spawning process dies', async () => {
  const dist = require('node:path').resolve(__dirname, '../dist/index.cjs');
  if (!existsSync(dist)) return skip('pdeathsig', 'package not built');
  const code = `const { spawn } = require(${JSON.stringify(dist)});
    const c = spawn('sleep', ['30'], { stdio: 'ignore', parentDeathSignal: 'SIGKILL' });
    c.spawned.then(() => { process.stdout.write(String(c.pid)); process.exit(0); });`;
  const r = await run(process.execPath, ['-e', code]);
  const pid = Number(r.stdout);
  assert.ok(pid > 0, r.stderr);
  const gone = await eventually(() => processExited(pid), 3000);
  assert.ok(gone, `pid ${pid} survived its parent`);
});

test('sysctl: a key of the new network namespace is set there, never on the host; host-wide keys are refused', async () => {
  if (!isRoot) return skip('sysctl', 'needs root');
  const key = '/proc/sys/net/ipv4/ip_unprivileged_port_start';
  const hostValue = readFileSync(key, 'utf8').trim();
  const want = hostValue === '443' ? '444' : '443';
  const r = await run('cat', [key], { namespaces: ['net'], sysctl: { 'net.ipv4.ip_unprivileged_port_start': want } });
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout.trim(), want);
  assert.is(readFileSync(key, 'utf8').trim(), hostValue, 'the host keeps its value');
  for (const [opts, path] of [
    [{ sysctl: { 'net.ipv4.ip_forward': '1' } }, 'sysctl.net.ipv4.ip_forward'],
    [{ namespaces: ['net', 'ipc', 'uts'], sysctl: { 'vm.swappiness': '1' } }, 'sysctl.vm.swappiness'],
    [{ namespaces: ['net'], sysctl: { 'net.ipv4.ip_forward': 1 } }, 'sysctl.net.ipv4.ip_forward'],
  ] as const) {
    assert.throws(() => spawn('true', [], opts as never), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === path, path);
  }
});

test('personality LINUX32 is what uname sees; ioPriority is what ionice reads back', async () => {
  if (!isRoot) return skip('personality', 'needs root');
  const r = await run('sh', ['-c', 'uname -m; cat /proc/self/personality'], { personality: 'LINUX32' });
  assert.is(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['i686', '00000008']);
  const io = await run('sh', ['-c', 'ionice -p $$'], { ioPriority: { class: 'be', level: 6 } });
  assert.is(io.exitCode, 0, io.stderr);
  assert.is(io.stdout.trim(), 'best-effort: prio 6');
  const idle = await run('sh', ['-c', 'ionice -p $$'], { ioPriority: { class: 'idle' } });
  assert.is(idle.stdout.trim(), 'idle');
  assert.throws(() => spawn('true', [], { personality: 'PDP11' as never }), (e: NsError) => e.path === 'personality');
  assert.throws(() => spawn('true', [], { ioPriority: { class: 'be', level: 8 } }), (e: NsError) => e.path === 'ioPriority.level');
  assert.throws(() => spawn('true', [], { ioPriority: { class: 'fast' as never } }), (e: NsError) => e.path === 'ioPriority.class');
});

test('memoryPolicy is the policy the program runs under (numa_maps); a refused one is a coded error', async () => {
  if (!existsSync('/proc/self/numa_maps')) return skip('memoryPolicy', 'no NUMA support in this kernel');
  const first = async (opts: Parameters<typeof run>[2]) => {
    const r = await run('cat', ['/proc/self/numa_maps'], opts);
    assert.is(r.exitCode, 0, r.stderr);
    return r.stdout.split('\n')[0];
  };
  assert.match(await first({ memoryPolicy: { mode: 'bind', nodes: [0] } }), / bind:0 /);
  assert.match(await first({ memoryPolicy: { mode: 'interleave', nodes: '0', flags: ['static-nodes'] } }), / interleave=static:0 /);
  assert.match(await first({}), / default /);
  try {
    await run('true', [], { memoryPolicy: { mode: 'bind', nodes: '7' } });
    assert.unreachable('node 7 is not online here');
  } catch (e) {
    assert.is((e as NsError).code, 'ENS_MEMORY_POLICY', String(e));
    assert.is((e as NsError).errno, 22);
  }
  assert.throws(() => spawn('true', [], { memoryPolicy: { mode: 'fast' as never } }), (e: NsError) => e.path === 'memoryPolicy.mode');
  assert.throws(() => spawn('true', [], { memoryPolicy: { mode: 'bind', nodes: '3-1' } }), (e: NsError) => e.path === 'memoryPolicy.nodes');
  assert.throws(() => spawn('true', [], { memoryPolicy: { mode: 'bind', nodes: [0], flags: ['x' as never] } }), (e: NsError) => e.path === 'memoryPolicy.flags[0]');
  // The rules live in Rust (ctr_common::sched), as on the OCI path: the TS copy let these reach the kernel.
  const refused = (policy: Parameters<typeof spawn>[2] & object, path: string) =>
    assert.throws(() => spawn('true', [], policy), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === path);
  refused({ memoryPolicy: { mode: 'bind' } }, 'memoryPolicy.nodes');
  refused({ memoryPolicy: { mode: 'local', nodes: [0] } }, 'memoryPolicy.nodes');
  refused({ memoryPolicy: { mode: 'bind', nodes: [0], flags: ['static-nodes', 'relative-nodes'] } }, 'memoryPolicy.flags');
  refused({ memoryPolicy: { mode: 'interleave', nodes: [0], flags: ['numa-balancing'] } }, 'memoryPolicy.flags');
});

/** (priority, nice, policy): fields 18, 19 and 41 of a /proc/<pid>/stat line. */
function statSched(line: string): [number, number, number] {
  const f = line.slice(line.lastIndexOf(')') + 2).trim().split(/\s+/);
  const n = (field: number) => Number(f[field - 3]);
  return [n(18), n(19), n(41)];
}

test('scheduler is the policy the program runs under (/proc/self/stat); a refused one is a coded error', async () => {
  const stat = async (opts: Parameters<typeof run>[2]) => {
    const r = await run('cat', ['/proc/self/stat'], opts);
    assert.is(r.exitCode, 0, r.stderr);
    return statSched(r.stdout);
  };
  // SCHED_BATCH = 3 (priority field 20 + nice), SCHED_IDLE = 5.
  assert.equal(await stat({ scheduler: { policy: 'batch', nice: 6 } }), [26, 6, 3]);
  assert.equal((await stat({ scheduler: { policy: 'idle' } }))[2], 5);
  if (isRoot) {
    // A negative nice is root's; RESET_ON_FORK hands a forked child nice 0.
    const r = await run('sh', ['-c', 'cat /proc/$$/stat; cat /proc/self/stat; true'], {
      scheduler: { policy: 'batch', nice: -4, flags: ['reset-on-fork'] },
    });
    assert.is(r.exitCode, 0, r.stderr);
    const [self, child] = r.stdout.trim().split('\n').map(statSched);
    assert.equal(self, [16, -4, 3]);
    assert.equal(child, [20, 0, 3]);
  } else skip('scheduler reset-on-fork', 'a negative nice needs root');
  // SCHED_DEADLINE with a runtime under the kernel's 1024 ns minimum: EINVAL in the child.
  try {
    await run('true', [], { scheduler: { policy: 'deadline', runtime: 10, deadline: 20, period: 30 } });
    assert.unreachable('a 10 ns runtime is below the kernel minimum');
  } catch (e) {
    assert.is((e as NsError).code, 'ENS_SCHEDULER', String(e));
    assert.is((e as NsError).errno, 22);
  }
  for (const [s, path] of [
    [{ policy: 'fast' }, 'scheduler.policy'],
    [{ policy: 'other', nice: 20 }, 'scheduler.nice'],
    [{ policy: 'fifo' }, 'scheduler.priority'],
    [{ policy: 'batch', priority: 3 }, 'scheduler.priority'],
    [{ policy: 'other', flags: ['x'] }, 'scheduler.flags[0]'],
    [{ policy: 'deadline', runtime: 10, deadline: 20 }, 'scheduler.period'],
    [{ policy: 'deadline', runtime: 30, deadline: 20, period: 40 }, 'scheduler.runtime'],
    [{ policy: 'other', period: 40 }, 'scheduler.period'],
  ] as const) {
    assert.throws(() => spawn('true', [], { scheduler: s as never }), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === path, path);
  }
});

test('cpuAffinity is the Cpus_allowed_list of the program', async () => {
  const cpus = async (cpuAffinity: number[] | string) => {
    const r = await run('grep', ['Cpus_allowed_list', '/proc/self/status'], { cpuAffinity });
    assert.is(r.exitCode, 0, r.stderr);
    return r.stdout.split(':')[1].trim();
  };
  assert.is(await cpus('0'), '0');
  assert.is(await cpus([0]), '0');
  try {
    await run('true', [], { cpuAffinity: [1000] });
    assert.unreachable('cpu 1000 is not online here');
  } catch (e) {
    assert.is((e as NsError).code, 'ENS_CPU_AFFINITY', String(e));
    assert.is((e as NsError).errno, 22);
  }
  assert.throws(() => spawn('true', [], { cpuAffinity: '1-0' }), (e: NsError) => e.path === 'cpuAffinity');
  assert.throws(() => spawn('true', [], { cpuAffinity: [] }), (e: NsError) => e.path === 'cpuAffinity');
});

test('cpu and node lists are parsed by the one Rust parser: a bad list is ENS_INVALID_OPTION naming the field', () => {
  const refused = (opts: Parameters<typeof spawn>[2] & object, path: string, message: RegExp) =>
    assert.throws(
      () => spawn('true', [], opts),
      (e: NsError) => e instanceof NsError && e.code === 'ENS_INVALID_OPTION' && e.path === path && message.test(e.message),
      path,
    );
  refused({ cpuAffinity: '0-x' }, 'cpuAffinity', /^cpuAffinity: "0-x": "x" is not a cpu number/);
  refused({ cpuAffinity: '1,,2' }, 'cpuAffinity', /"" is not a cpu number/);
  refused({ cpuAffinity: '3-1' }, 'cpuAffinity', /range 3-1 is reversed/);
  refused({ cpuAffinity: '0-1024' }, 'cpuAffinity', /cpu 1024 is out of range \(0-1023\)/);
  refused({ cpuAffinity: [1024] }, 'cpuAffinity', /cpu 1024 is out of range \(0-1023\)/);
  refused({ cpuAffinity: '' }, 'cpuAffinity', /at least one cpu/);
  refused({ cpuAffinity: [-1] }, 'cpuAffinity', /-1 is not a cpu number/);
  refused({ memoryPolicy: { mode: 'bind', nodes: '0-2048' } }, 'memoryPolicy.nodes', /node 2048 is out of range \(0-1023\)/);
  refused({ memoryPolicy: { mode: 'bind', nodes: 'zero' } }, 'memoryPolicy.nodes', /^memoryPolicy.nodes: "zero": "zero" is not a node number/);
  refused({ memoryPolicy: { mode: 'bind', nodes: [2048] } }, 'memoryPolicy.nodes', /node 2048 is out of range/);
});

test('nothing left behind', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
});


test.run();
