// bench/floor.mjs: the in-process API at the kernel's floor (issue 18's
// measure). One run prints, side by side and as ratios, `@ctr/runtime`'s
// Container API, `ctrun`, `crun` and `runc` spawned from this same Node
// process, and the floor (`unshare` with the same namespaces + exec + wait):
//
//   1. run to completion (busybox /bin/true: create -> start -> wait -> delete),
//      medians of interleaved rotated blocks;
//   2. containers/s at concurrency 1, 2, 4, 8 (API vs spawning `crun run`),
//      with Node's main-thread CPU per container;
//   3. `ctrun` create / start / exec / delete each against `crun`'s;
//   4. memory the runtime adds to the container's cgroup, and the runtime's RSS;
//   5. seccomp (Docker's profile): the launch cost it adds (a cold compile
//      for crun, the in-process cache for the API), the cold compile in CPU
//      time against crun's, and getpid and read loops under it inside each
//      runtime's container;
//   6. with N containers alive (default 500), the last 50 launches against
//      the first 50, API and crun.
//
//   node bench/floor.mjs [--runs 120] [--alive 500] [--only run,rate,steps,memory,seccomp,alive]
//
// crun 1.8.1 refuses this hybrid host while the cgroup2 hierarchy has
// controllers: as bench/exec-protection.mjs, the bench re-runs itself in a
// private mount namespace where an empty file hides
// /sys/fs/cgroup/unified/cgroup.controllers (crun and ctrun see the same
// thing; nothing changes outside that namespace).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ctrun, median, repo, requireRootAndRootfs, rootfs, timeRotated } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const runs = Number(opt('--runs')) || 120;
const aliveN = Number(opt('--alive')) || 500;
const only = opt('--only')?.split(',');
const want = (s) => !only || only.includes(s);
requireRootAndRootfs();

const controllers = '/sys/fs/cgroup/unified/cgroup.controllers';
if (process.env.CTR_BENCH_PRIVATE_NS === '1') {
  const empty = join(tmpdir(), `ctr-bench-floor-empty-${process.pid}`);
  writeFileSync(empty, '');
  const m = spawnSync('mount', ['--bind', empty, controllers]);
  if (m.status !== 0) throw new Error(`mount --bind over ${controllers}: ${m.stderr}`);
} else if (existsSync(controllers) && readFileSync(controllers, 'utf8').trim() !== '' && spawnSync('unshare', ['--version']).status === 0) {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, CTR_BENCH_PRIVATE_NS: '1' },
  });
  process.exit(r.status ?? 1);
}

const { Container, setSpawnMode, spawnerPid } = createRequire(import.meta.url)(join(repo, 'packages/runtime/dist/index.cjs'));
const work = mkdtempSync(join(tmpdir(), 'ctr-bench-floor-'));
const stateBase = `/run/ctr-bench-floor-${process.pid}`;
const roots = { api: `${stateBase}/api`, ctrun: `${stateBase}/ctrun`, crun: `${stateBase}/crun`, runc: `${stateBase}/runc` };
// Every runtime keeps its state under /run, a tmpfs on a usual host. Where
// /run is a disk file system (this VM: ext4), the state roots get a private
// tmpfs in the bench's own mount namespace, for every runtime alike: ext4's
// inode allocation and directory blocks otherwise grow the cost of each
// launch with the number of state directories alive (section 6).
mkdirSync(stateBase, { recursive: true });
let stateTmpfs = false;
if (process.env.CTR_BENCH_PRIVATE_NS === '1' && spawnSync('stat', ['-f', '-c', '%T', '/run'], { encoding: 'utf8' }).stdout.trim() !== 'tmpfs') {
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'tmpfs', stateBase]);
  if (m.status !== 0) throw new Error(`mount tmpfs on ${stateBase}: ${m.stderr}`);
  stateTmpfs = true;
}
const f2 = (x) => x.toFixed(2);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
let seq = 0;
const nextId = (tag) => `ctr-bf-${tag}-${process.pid}-${seq++}`;

/** A bundle like bench/lib.mjs's, with `extra` merged into config.json. */
function bundle(name, args, extra = {}, root = rootfs) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const cfg = {
    ociVersion: '1.0.2',
    root: { path: root },
    hostname: 'bench',
    process: { terminal: false, cwd: '/', args, env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
  };
  for (const [k, v] of Object.entries(extra)) cfg[k] = typeof v === 'object' && !Array.isArray(v) ? { ...cfg[k], ...v } : v;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

/**
 * One CLI call; throws with the runtime's last stderr line. stderr goes to
 * a file, never a pipe: a container made by `create` (or `run --detach`)
 * keeps the runtime's stdio, and spawnSync would wait for the pipe to close.
 */
function cli(bin, root, args, stdout = 'ignore') {
  const errFile = join(work, 'stderr');
  const fd = openSync(errFile, 'w');
  let r;
  try {
    r = spawnSync(bin, ['--root', root, ...args], { stdio: ['ignore', stdout, fd] });
  } finally {
    closeSync(fd);
  }
  if (r.status !== 0) throw new Error(`${bin} ${args[0]}: exit ${r.status}: ${readFileSync(errFile, 'utf8').trim().split('\n').pop()}`);
  return r;
}

/** `run` to completion through a runtime binary. */
const runCli = (bin, root, b) => () => {
  const id = nextId('r');
  try {
    cli(bin, root, ['run', '--bundle', b, id]);
  } catch (e) {
    spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    throw e;
  }
};

/** create -> start -> wait -> delete through the in-process API. */
async function runApi(b, root = roots.api) {
  const c = await Container.create({ id: nextId('a'), bundle: b, root, stdio: 'ignore' });
  try {
    await c.start();
    await c.wait();
  } finally {
    await c.delete({ force: true });
  }
}

/** {@link runApi} with each container process a fork of Node (the spawner's fallback). */
async function runApiForked(b) {
  setSpawnMode('fork');
  try {
    await runApi(b);
  } finally {
    setSpawnMode('spawner');
  }
}

/**
 * CPU time (ms) of this process's main thread so far: the scheduler's
 * runtime in ns (`schedstat`), not utime + stime in 10 ms ticks (too coarse
 * for the ~1 ms per container measured).
 */
function mainThreadCpuMs() {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/** CPU time (ms, `schedstat`) of task `tid` of process `pid` (0 once it is gone). */
function taskCpuMs(pid, tid = pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}

/** CPU time (ms) of every thread of process `pid` so far (0 for no process). */
function processCpuMs(pid) {
  if (!pid) return 0;
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((sum, t) => sum + taskCpuMs(pid, t), 0);
  } catch {
    return 0;
  }
}

/**
 * CPU time (ms) of this whole process (getrusage: up to date for the
 * running thread, where its `schedstat` lags until the next tick).
 */
function nodeCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU time (ms) of this process's reaped children (`cutime + cstime`, 10 ms ticks: sum many). */
function reapedChildrenCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

const commit = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`floor: ${new Date().toISOString()} host ${hostname()} (${cpus().length} cpus, kernel ${release()}, loadavg ${load}) commit ${commit}${stateTmpfs ? ', state roots on a private tmpfs (/run is not one here)' : ''}`);
console.log(`  ${execFileSync('crun', ['--version'], { encoding: 'utf8' }).split('\n')[0]}, ${execFileSync('runc', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`);

const trueBundle = bundle('true', ['/bin/true']);
const results = {};
try {
  // 1. Run to completion, interleaved.
  if (want('run')) {
    const floorNs = ['unshare', ['--pid', '--fork', '--mount', '--net', '--ipc', '--uts', '--mount-proc', '--root', rootfs, '/bin/true']];
    const times = await timeRotated(
      {
        'API (in-process)': () => runApi(trueBundle),
        'API, fork of Node': () => runApiForked(trueBundle),
        'ctrun run': async () => runCli(ctrun, roots.ctrun, trueBundle)(),
        'crun run': async () => runCli('crun', roots.crun, trueBundle)(),
        'runc run': async () => runCli('runc', roots.runc, trueBundle)(),
        'floor (unshare)': async () => {
          const r = spawnSync(floorNs[0], floorNs[1], { stdio: 'ignore' });
          if (r.status !== 0) throw new Error(`unshare: exit ${r.status}`);
        },
      },
      runs,
    );
    const m = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, median(t)]));
    results.run = m;
    console.log(`\n1. run to completion of /bin/true, ${runs} runs each, interleaved (median, p10-p90)`);
    for (const [k, t] of Object.entries(times)) {
      console.log(`  ${k.padEnd(18)} ${f2(m[k]).padStart(7)} ms  (${f2(t[Math.floor(t.length * 0.1)])}-${f2(t[Math.floor(t.length * 0.9)])})  / crun ${ratio(m[k], m['crun run'])}  / floor ${ratio(m[k], m['floor (unshare)'])}`);
    }
    console.log(`  => API / crun run ${ratio(m['API (in-process)'], m['crun run'])} (aim <= 0.5x), API / floor ${ratio(m['API (in-process)'], m['floor (unshare)'])} (aim <= 1.5x), ctrun run / crun run ${ratio(m['ctrun run'], m['crun run'])} (aim <= 0.8x)`);
  }

  // 2. Containers per second at concurrency 1, 2, 4, 8.
  if (want('rate')) {
    const total = Math.max(runs, 64);
    console.log(`\n2. containers/s from one Node process, ${total} runs of /bin/true per point`);
    const crunAsync = () =>
      new Promise((resolve, reject) => {
        const id = nextId('c');
        const p = spawn('crun', ['--root', roots.crun, 'run', '--bundle', trueBundle, id], { stdio: 'ignore' });
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`crun run: exit ${code}`))));
      });
    const rate = async (fn, c) => {
      let left = total;
      const cpu0 = mainThreadCpuMs();
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: c }, async () => {
        while (left-- > 0) await fn();
      }));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      return { perSec: total / s, cpu: (mainThreadCpuMs() - cpu0) / total };
    };
    results.rate = {};
    for (const c of [1, 2, 4, 8]) {
      // Alternate which goes first, twice, and keep the better of each (the machine's load drifts).
      const a1 = await rate(() => runApi(trueBundle), c);
      const r1 = await rate(crunAsync, c);
      const r2 = await rate(crunAsync, c);
      const a2 = await rate(() => runApi(trueBundle), c);
      const api = a1.perSec > a2.perSec ? a1 : a2;
      const crun = r1.perSec > r2.perSec ? r1 : r2;
      setSpawnMode('fork');
      const forked = await rate(() => runApi(trueBundle), c);
      setSpawnMode('spawner');
      results.rate[c] = { api, crun, forked };
      console.log(`  c=${c}  API ${api.perSec.toFixed(0).padStart(4)}/s (main thread ${f2(api.cpu)} ms CPU each)  crun ${crun.perSec.toFixed(0).padStart(4)}/s (main thread ${f2(crun.cpu)} ms)  API / crun ${ratio(api.perSec, crun.perSec)} (aim >= 2x)  [API as forks of Node ${forked.perSec.toFixed(0)}/s]`);
    }
  }

  // 3. CLI steps: create, start, exec, delete (of a running container), ctrun vs crun.
  if (want('steps')) {
    const sleepBundle = bundle('sleep', ['sleep', '100']);
    const steps = { ctrun: { create: [], start: [], exec: [], delete: [] }, crun: { create: [], start: [], exec: [], delete: [] } };
    const timed = (arr, fn) => {
      const t = process.hrtime.bigint();
      fn();
      arr.push(Number(process.hrtime.bigint() - t) / 1e6);
    };
    const once = (name, bin) => {
      const root = roots[name];
      const id = nextId('s');
      const s = steps[name];
      try {
        timed(s.create, () => cli(bin, root, ['create', '--bundle', sleepBundle, id]));
        timed(s.start, () => cli(bin, root, ['start', id]));
        timed(s.exec, () => cli(bin, root, ['exec', id, '/bin/true']));
        timed(s.delete, () => cli(bin, root, ['delete', '--force', id]));
      } catch (e) {
        spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
        throw e;
      }
    };
    for (let i = 0; i < 10; i++) {
      once('ctrun', ctrun);
      once('crun', 'crun');
    }
    for (const s of Object.values(steps)) for (const a of Object.values(s)) a.length = 0;
    const block = Math.max(1, Math.round(runs / 3));
    for (let r = 0; r < 3; r++) for (const [name, bin] of [['ctrun', ctrun], ['crun', 'crun']]) for (let i = 0; i < block; i++) once(name, bin);
    console.log(`\n3. CLI steps on a busybox \`sleep\` container, ${block * 3} runs each, rotated blocks (median ms)`);
    results.steps = {};
    for (const step of ['create', 'start', 'exec', 'delete']) {
      const a = median(steps.ctrun[step]);
      const b = median(steps.crun[step]);
      results.steps[step] = a / b;
      console.log(`  ${step.padEnd(7)} ctrun ${f2(a).padStart(6)}  crun ${f2(b).padStart(6)}  ctrun / crun ${ratio(a, b)} (aim <= 1x)`);
    }
  }

  // 4. Memory: the container cgroup's peak, and the runtime's own RSS.
  //
  // The kernel charges a memory cgroup in per-CPU batches of 64 pages
  // (MEMCG_CHARGE_BATCH): the first charge on a CPU takes 256 KiB at once
  // and serves the next charges there. So with a roomy limit the peak reads
  // in 256 KiB steps, by how many CPUs the container's processes happened to
  // charge from, which depends on what else runs (measured: 256 KiB for
  // every runtime pinned to one CPU, 256 or 512 KiB otherwise). Below one
  // batch the kernel charges page by page (try_charge retries a failed batch
  // with the pages asked for), so a 252 KiB limit reads the exact peak of
  // pages charged: the measure. The roomy reading is printed beside it.
  if (want('memory')) {
    const memDir = (path) => ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'].map((d) => join(d, path)).find((d) => existsSync(join(d, 'memory.max_usage_in_bytes')) || existsSync(join(d, 'memory.peak')));
    const peakOf = (d) => Number(readFileSync(join(d, existsSync(join(d, 'memory.max_usage_in_bytes')) ? 'memory.max_usage_in_bytes' : 'memory.peak'), 'utf8'));
    // OOM kills in the cgroup (v1 memory.oom_control, v2 memory.events): a
    // run killed under the tight limit is not counted (it would read the limit).
    const oomKillsOf = (d) => {
      const f = ['memory.oom_control', 'memory.events'].map((n) => join(d, n)).find((f) => existsSync(f));
      const m = f && readFileSync(f, 'utf8').match(/^oom_kill (\d+)$/m);
      return m ? Number(m[1]) : 0;
    };
    const exactLimit = 252 * 1024;
    const memBundle = (id, limit) => bundle(`mem-${id}`, ['sleep', '0.3'], { linux: { cgroupsPath: `/${id}`, resources: { memory: { limit } } } });
    // Busybox's pages in the page cache first, charged to this process: a
    // container that reads them in is charged for them (and one OOM-killed
    // under the tight limit evicts them again for the next).
    readFileSync(join(rootfs, 'bin/busybox'));
    const measure = async (limit, rounds) => {
      const peaks = { api: [], ctrun: [], crun: [], runc: [] };
      const killed = { api: 0, ctrun: 0, crun: 0, runc: 0 };
      const keep = (name, d) => {
        if (oomKillsOf(d) > 0) killed[name]++;
        else peaks[name].push(peakOf(d));
      };
      // A runtime whose own setup is OOM-killed under the tight limit fails
      // create or start: counted as killed, and its container deleted.
      for (let i = 0; i < rounds; i++) {
        let id = nextId('m');
        const c = await Container.create({ id, bundle: memBundle(id, limit), root: roots.api, stdio: 'ignore' }).catch(() => null);
        try {
          if (!c) throw new Error('create');
          await c.start();
          await new Promise((r) => setTimeout(r, 150));
          keep('api', memDir(id));
        } catch {
          killed.api++;
        } finally {
          await c?.delete({ force: true });
        }
        for (const [name, bin] of [['ctrun', ctrun], ['crun', 'crun'], ['runc', 'runc']]) {
          id = nextId('m');
          const b = memBundle(id, limit);
          try {
            cli(bin, roots[name], ['create', '--bundle', b, id]);
            cli(bin, roots[name], ['start', id]);
            spawnSync('sleep', ['0.15']);
            keep(name, memDir(id));
          } catch {
            killed[name]++;
          } finally {
            spawnSync(bin, ['--root', roots[name], 'delete', '--force', id], { stdio: 'ignore' });
          }
        }
      }
      return { peaks, killed };
    };
    const roomy = await measure(268435456, 7);
    const exact = await measure(exactLimit, 9);
    const peaks = exact.peaks;
    // The runtime's RSS: a runtime binary's peak RSS for `run` (GNU time), and for the
    // in-process API what this Node process grew by over the runs above (the addon and its state).
    const maxRss = (bin, root) => {
      const out = [];
      for (let i = 0; i < 5; i++) {
        const r = spawnSync('/usr/bin/time', ['-f', '%M', bin, '--root', root, 'run', '--bundle', trueBundle, nextId('t')], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
        out.push(Number(r.stderr.trim().split('\n').pop()));
      }
      return median(out);
    };
    const rss = { ctrun: maxRss(ctrun, roots.ctrun), crun: maxRss('crun', roots.crun), runc: maxRss('runc', roots.runc) };
    const kib = (x) => (Number.isNaN(x) ? 'n/a' : `${(x / 1024).toFixed(0)} KiB`);
    const med = (a) => (a.length ? median(a) : NaN);
    console.log('\n4. memory');
    const killedNote = (k) => (Object.values(k).some((n) => n > 0) ? `  (OOM-killed, not counted: ${Object.entries(k).map(([n, v]) => `${n} ${v}`).join(', ')})` : '');
    console.log(`  container cgroup peak, exact (${kib(exactLimit)} limit: charged page by page; busybox sleep, median of ${exact.peaks.crun.length}): API ${kib(med(peaks.api))}  ctrun ${kib(med(peaks.ctrun))}  crun ${kib(med(peaks.crun))}  runc ${kib(med(peaks.runc))}  API / crun ${ratio(med(peaks.api), med(peaks.crun))}  ctrun / crun ${ratio(med(peaks.ctrun), med(peaks.crun))} (aim <= 1x)${killedNote(exact.killed)}`);
    console.log(`  container cgroup peak, 256 MiB limit (in 256 KiB per-CPU batches, so by the CPUs charged from; median of 7): API ${kib(med(roomy.peaks.api))}  ctrun ${kib(med(roomy.peaks.ctrun))}  crun ${kib(med(roomy.peaks.crun))}  runc ${kib(med(roomy.peaks.runc))}${killedNote(roomy.killed)}`);
    console.log(`  runtime max RSS of \`run\` (GNU time, median of 5): ctrun ${rss.ctrun} KiB  crun ${rss.crun} KiB  runc ${rss.runc} KiB  ctrun / crun ${ratio(rss.ctrun, rss.crun)} (aim <= 1x)`);
    results.memory = { cgroup: med(peaks.api) / med(peaks.crun), cgroupCtrun: med(peaks.ctrun) / med(peaks.crun), rss: rss.ctrun / rss.crun };
  }

  // 5. Seccomp with Docker's default profile.
  if (want('seccomp')) {
    const { Profile } = await import(join(repo, 'packages/seccomp/dist/index.mjs'));
    const docker = Profile.fromDocker(readFileSync(join(repo, 'test-data/docker-seccomp/default.json'), 'utf8')).json;
    // A private rootfs with the static getpid-loop helper of bench/seccomp.mjs.
    const scRoot = join(work, 'scroot');
    cpSync(rootfs, scRoot, { recursive: true, verbatimSymlinks: true });
    execFileSync('cc', ['-static', '-O2', '-o', join(scRoot, 'sc'), join(repo, 'packages/seccomp/test/helpers/sc.c')]);
    const plain = bundle('sc-plain', ['/bin/true'], {}, scRoot);
    const filtered = bundle('sc-docker', ['/bin/true'], { linux: { seccomp: docker } }, scRoot);
    const n = Math.max(30, Math.round(runs / 2));
    const times = await timeRotated(
      {
        'API': () => runApi(plain),
        'API + docker': () => runApi(filtered),
        'crun': async () => runCli('crun', roots.crun, plain)(),
        'crun + docker': async () => runCli('crun', roots.crun, filtered)(),
      },
      n,
    );
    const m = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, median(t)]));
    const apiAdd = m['API + docker'] - m.API;
    const crunAdd = m['crun + docker'] - m.crun;
    console.log(`\n5. seccomp, Docker's default profile (${docker.syscalls.length} rules)`);
    console.log(`  launch cost it adds (median of ${n}): API ${f2(apiAdd)} ms (compiled once per process, cached)  crun ${f2(crunAdd)} ms (compiled per container)`);
    // The compile itself, in CPU time (wall time on a shared machine mostly
    // measures the neighbours): ours in-process, cold (cache cleared), against
    // the CPU a Docker-profile `crun run` adds to a plain one (children's
    // utime+stime from /proc/self/stat, interleaved pairs; crun compiles per
    // container).
    const { clearCache } = await import(join(repo, 'packages/seccomp/dist/index.mjs'));
    const dockerProfile = Profile.fromDocker(readFileSync(join(repo, 'test-data/docker-seccomp/default.json'), 'utf8'));
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const ours = [];
    for (let i = 0; i < 30; i++) {
      clearCache();
      const t = cpuMs();
      dockerProfile.compileSync();
      ours.push(cpuMs() - t);
    }
    const tick = 1000 / 100; // USER_HZ
    const childCpu = () => {
      const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
      return (Number(f[13]) + Number(f[14])) * tick; // cutime, cstime
    };
    const cpuOf = { plain: 0, docker: 0 };
    const pairs = Math.max(40, runs);
    for (let i = 0; i < pairs; i++) {
      for (const [k, b] of i % 2 ? [['plain', plain], ['docker', filtered]] : [['docker', filtered], ['plain', plain]]) {
        const t = childCpu();
        runCli('crun', roots.crun, b)();
        cpuOf[k] += childCpu() - t;
      }
    }
    const oursCold = median(ours);
    const crunCold = (cpuOf.docker - cpuOf.plain) / pairs;
    console.log(`  cold compile, CPU: ours in-process ${f2(oursCold)} ms (median of 30)  crun ${f2(crunCold)} ms added per launch (mean of ${pairs} pairs)  ours / crun ${ratio(oursCold, crunCold)} (aim <= 1x)`);
    const N = 2_000_000;
    // getpid (not on the hot path) and read(-1) (on it).
    const readNr = process.arch === 'arm64' ? 63 : 0;
    const loopIn = (bin, root, b, call) => {
      const id = nextId('l');
      const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
      cfg.process.args = ['/sc', call === 'read' ? `loop:${N}:${readNr}` : `loop:${N}`];
      const lb = join(work, `loop-${id}`);
      mkdirSync(lb);
      writeFileSync(join(lb, 'config.json'), JSON.stringify(cfg));
      const r = cli(bin, root, ['run', '--bundle', lb, id], 'pipe');
      return Number(/ns=(\d+)/.exec(String(r.stdout))[1]) / N;
    };
    const perCall = {};
    for (const call of ['getpid', 'read']) {
      const loops = { ctrun: [], 'ctrun + docker': [], crun: [], 'crun + docker': [] };
      for (let i = 0; i < 7; i++) {
        loops.ctrun.push(loopIn(ctrun, roots.ctrun, plain, call));
        loops['ctrun + docker'].push(loopIn(ctrun, roots.ctrun, filtered, call));
        loops.crun.push(loopIn('crun', roots.crun, plain, call));
        loops['crun + docker'].push(loopIn('crun', roots.crun, filtered, call));
      }
      const l = Object.fromEntries(Object.entries(loops).map(([k, t]) => [k, median(t)]));
      const o = l['ctrun + docker'] - l.ctrun;
      const t = l['crun + docker'] - l.crun;
      perCall[call] = { ours: o, theirs: t };
      console.log(`  ${call} under it (${N} calls, median of 7): ctrun +${o.toFixed(1)} ns/call (${l.ctrun.toFixed(1)} -> ${l['ctrun + docker'].toFixed(1)})  crun +${t.toFixed(1)} ns/call (${l.crun.toFixed(1)} -> ${l['crun + docker'].toFixed(1)})  filtered ctrun / crun ${ratio(l['ctrun + docker'], l['crun + docker'])}`);
    }
    console.log('  (warm cached load of the profile in-process: bench/seccomp.mjs)');
    results.seccomp = { apiAdd, crunAdd, oursCold, crunCold, perCall };
  }

  // 6. Launch cost with many containers alive.
  if (want('alive')) {
    const sleepBundle = bundle('alive', ['sleep', '3600']);
    console.log(`\n6. with ${aliveN} containers alive: the last 50 launches (create + start) against the first 50`);
    // One runtime at a time (N of its own alive, not 2N), API first.
    const launch = { api: [], crun: [] };
    // The API's create and start apart, and its main-thread CPU per launch:
    // work of ours that grows with the number alive shows there whatever
    // the machine's load does to wall time.
    const apiSteps = { create: [], start: [] };
    const apiMainCpu = [];
    // CPU per launch of everything a launch runs (the API: Node's threads,
    // the spawner (one: launches here are one at a time, so the pool
    // never grows) and the container's init up to its exec; crun: its
    // process tree and the init), load-robust where wall time is not: a
    // cost the kernel adds per container alive shows in both runtimes.
    const cpu = { api: [], crun: [] };
    const live = [];
    try {
      for (let i = 0; i < aliveN; i++) {
        const tree0 = nodeCpuMs() + processCpuMs(spawnerPid());
        const cpu0 = mainThreadCpuMs();
        const t = process.hrtime.bigint();
        const c = await Container.create({ id: nextId('al'), bundle: sleepBundle, root: roots.api, stdio: 'ignore' });
        const t1 = process.hrtime.bigint();
        live.push(c);
        await c.start();
        const t2 = process.hrtime.bigint();
        launch.api.push(Number(t2 - t) / 1e6);
        apiSteps.create.push(Number(t1 - t) / 1e6);
        apiSteps.start.push(Number(t2 - t1) / 1e6);
        apiMainCpu.push(mainThreadCpuMs() - cpu0);
        cpu.api.push(nodeCpuMs() + processCpuMs(spawnerPid()) - tree0 + taskCpuMs(c.pid));
      }
    } finally {
      for (const c of live.splice(0)) await c.delete({ force: true }).catch(() => undefined);
    }
    const pidFile = join(work, 'crun.pid');
    try {
      for (let i = 0; i < aliveN; i++) {
        const id = nextId('cl');
        const cpu0 = reapedChildrenCpuMs();
        const t = process.hrtime.bigint();
        cli('crun', roots.crun, ['run', '--detach', '--pid-file', pidFile, '--bundle', sleepBundle, id]);
        launch.crun.push(Number(process.hrtime.bigint() - t) / 1e6);
        live.push(id);
        cpu.crun.push(reapedChildrenCpuMs() - cpu0 + taskCpuMs(Number(readFileSync(pidFile, 'utf8'))));
      }
    } finally {
      for (const id of live) spawnSync('crun', ['--root', roots.crun, 'delete', '--force', id], { stdio: 'ignore' });
    }
    results.alive = {};
    const firstLast = (t) => [median(t.slice(0, 50)), median(t.slice(-50))];
    const mean = (t) => t.reduce((a, b) => a + b, 0) / t.length;
    for (const [k, t] of Object.entries(launch)) {
      const [first, last] = firstLast(t);
      results.alive[k] = last / first;
      console.log(`  ${k.padEnd(5)} first 50 ${f2(first)} ms  last 50 ${f2(last)} ms  last / first ${ratio(last, first)} (aim <= 1.15x)`);
    }
    for (const [step, t] of Object.entries(apiSteps)) {
      const [first, last] = firstLast(t);
      console.log(`  API ${step.padEnd(6)} first 50 ${f2(first)} ms  last 50 ${f2(last)} ms  (+${f2(last - first)} ms)`);
    }
    // Means: crun's own CPU comes in 10 ms ticks, summed over the 50.
    for (const [k, t] of Object.entries(cpu)) {
      const first = mean(t.slice(0, 50));
      const last = mean(t.slice(-50));
      results.alive[`${k}Cpu`] = last / first;
      console.log(`  ${k.padEnd(5)} CPU per launch (mean): first 50 ${f2(first)} ms  last 50 ${f2(last)} ms  (+${f2(last - first)} ms, ${ratio(last, first)})`);
    }
    const [cpuFirst, cpuLast] = firstLast(apiMainCpu);
    results.alive.apiMainCpu = cpuLast / cpuFirst;
    console.log(`  API main-thread CPU per launch: first 50 ${cpuFirst.toFixed(3)} ms  last 50 ${cpuLast.toFixed(3)} ms  last / first ${ratio(cpuLast, cpuFirst)}`);
    const blocks = (t) => Array.from({ length: Math.floor(t.length / 50) }, (_, b) => f2(median(t.slice(b * 50, b * 50 + 50)))).join(' ');
    console.log(`  medians of each 50 (ms), API: ${blocks(launch.api)}`);
    console.log(`  medians of each 50 (ms), crun: ${blocks(launch.crun)}`);
  }
  console.log(`\nloadavg at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} finally {
  for (const r of Object.values(roots)) rmSync(r, { recursive: true, force: true });
  if (stateTmpfs) spawnSync('umount', [stateBase]);
  rmSync(stateBase, { recursive: true, force: true });
  rmSync(join(tmpdir(), `ctr-bench-floor-empty-${process.pid}`), { force: true });
  rmSync(work, { recursive: true, force: true });
}
