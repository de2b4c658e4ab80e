// bench/lifecycle.mjs: N sequential create+start+wait+delete of /bin/true on
// the busybox bundle with `ctrun run`, `crun run` and `runc run` (Debian's),
// side by side, medians and ratios. Run as root from the repo root:
//
//   node bench/lifecycle.mjs [--runs 100] [--prepare-crun]
//
// crun 1.8.1 refuses hybrid hosts whose enabled v1 controllers lack a
// hierarchy ("cgroups in hybrid mode not supported"). --prepare-crun mounts
// the missing ones (hugetlb, net_cls+net_prio, perf_event) as systemd does,
// and unmounts them at the end (this changes the whole host for the bench's
// duration: hugetlb leaves cgroup2 meanwhile). Without it, crun is tried and
// its error shown.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, symlinkSync, rmSync, existsSync, mkdirSync, readFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ctrun, median, repo, requireRootAndRootfs, writeBundle } from './lib.mjs';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 100;
const prepare = argv.includes('--prepare-crun');
requireRootAndRootfs();

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-lifecycle-'));
// One config for all three: the namespaces and mounts of a typical container.
const bundle = writeBundle(join(work, 'bundle'), ['/bin/true']);

// State roots under /run, where runtimes keep them by default.
const stateBase = `/run/ctr-bench-${process.pid}`;
const mounted = [];
function prepareCrun() {
  const have = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const [dir, opts, links] of [['hugetlb', 'hugetlb', []], ['net_cls,net_prio', 'net_cls,net_prio', ['net_cls', 'net_prio']], ['perf_event', 'perf_event', []]]) {
    const path = `/sys/fs/cgroup/${dir}`;
    if (have.includes(` ${path} `)) continue;
    spawnSync('mount', ['-o', 'remount,rw', '/sys/fs/cgroup']);
    mkdirSync(path, { recursive: true });
    const r = spawnSync('mount', ['-t', 'cgroup', '-o', opts, 'cgroup', path]);
    if (r.status !== 0) { console.log(`could not mount ${path}: ${r.stderr}`); continue; }
    mounted.push(path);
    for (const l of links) if (!existsSync(`/sys/fs/cgroup/${l}`)) { symlinkSync(dir, `/sys/fs/cgroup/${l}`); mounted.push(`link:/sys/fs/cgroup/${l}`); }
  }
}
function hierarchyOf(ctrl) {
  const line = readFileSync('/proc/cgroups', 'utf8').split('\n').find((l) => l.startsWith(`${ctrl}\t`));
  return line ? Number(line.split('\t')[1]) : 0;
}
function undoCrun() {
  const opts = { '/sys/fs/cgroup/hugetlb': 'hugetlb', '/sys/fs/cgroup/net_cls,net_prio': 'net_cls,net_prio', '/sys/fs/cgroup/perf_event': 'perf_event' };
  for (const m of mounted.reverse()) {
    if (m.startsWith('link:')) rmSync(m.slice(5), { force: true });
    else { spawnSync('umount', [m]); spawnSync('rmdir', [m]); }
  }
  // A v1 hierarchy only goes away (and hugetlb returns to cgroup2) when it is
  // unmounted with no child cgroups, including dying ones: anything that made
  // cgroups in it meanwhile (runc, crun, concurrent tests) keeps it alive.
  // Remount it privately, remove empty children, and unmount again until the
  // kernel has released it.
  for (const [path, o] of Object.entries(opts)) {
    if (!mounted.includes(path)) continue;
    for (let tries = 0; tries < 20 && hierarchyOf(o.split(',')[0]) !== 0; tries++) {
      const tmp = mkdtempSync(join(tmpdir(), 'ctr-bench-cg-'));
      if (spawnSync('mount', ['-t', 'cgroup', '-o', o, 'cgroup', tmp]).status === 0) {
        const dirs = String(spawnSync('find', [tmp, '-mindepth', '1', '-type', 'd']).stdout).split('\n').filter(Boolean).sort().reverse();
        for (const d of dirs) spawnSync('rmdir', [d]);
        spawnSync('sleep', ['0.5']);
        spawnSync('umount', [tmp]);
      }
      rmSync(tmp, { recursive: true, force: true });
      spawnSync('sleep', ['0.5']); // dying cgroups are released asynchronously
    }
    if (hierarchyOf(o.split(',')[0]) !== 0) console.log(`warning: the ${o} v1 hierarchy is still alive (busy cgroups); see /proc/cgroups`);
  }
}

function bench(name, bin, root) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const id = `ctr-bench-${process.pid}-${i}`;
    const t = process.hrtime.bigint();
    const r = spawnSync(bin, ['--root', root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) {
      spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
      return { name, error: `exit ${r.status}: ${String(r.stderr).trim().split('\n').pop()}` };
    }
    times.push(ms);
  }
  return { name, median: median(times), min: Math.min(...times), runs };
}

try {
  if (prepare) prepareCrun();
  const results = [
    bench('ctrun run', ctrun, `${stateBase}-ctrun`),
    bench('crun run', 'crun', `${stateBase}-crun`),
    bench('runc run', 'runc', `${stateBase}-runc`),
  ];
  // In-process: the Container API of @ctr/runtime (dist), no runtime binary exec'd for the lifecycle.
  const { Container } = createRequire(import.meta.url)(join(repo, 'packages/runtime/dist/index.cjs'));
  const api = [];
  let apiError = null;
  for (let i = 0; i < runs && !apiError; i++) {
    const id = `ctr-bench-api-${process.pid}-${i}`;
    const t = process.hrtime.bigint();
    try {
      const c = await Container.create({ id, bundle, root: `${stateBase}-api`, stdio: 'ignore' });
      await c.start();
      await c.wait();
      await c.delete();
    } catch (e) { apiError = `${e.code}: ${e.message}`; break; }
    api.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  results.push(apiError ? { name: 'API (in-process)', error: apiError } : { name: 'API (in-process)', median: median(api), min: Math.min(...api), runs });
  const base = results[0].median;
  console.log(`lifecycle: ${runs} x run of /bin/true on the busybox bundle (sequential)`);
  for (const r of results) {
    if (r.error) console.log(`  ${r.name.padEnd(17)}  failed: ${r.error}`);
    else console.log(`  ${r.name.padEnd(17)}  median ${r.median.toFixed(2)} ms  min ${r.min.toFixed(2)} ms  ratio to ctrun ${(r.median / base).toFixed(2)}x`);
  }
  // Memory the runtime adds to the container's cgroup: the peak of a busybox
  // `sleep` container's memory cgroup (v1 max_usage_in_bytes or v2 memory.peak).
  const memDir = (path) => ['/sys/fs/cgroup/memory', '/sys/fs/cgroup'].map((d) => join(d, path)).find((d) => existsSync(join(d, 'memory.max_usage_in_bytes')) || existsSync(join(d, 'memory.peak')));
  const peakOf = (d) => Number(readFileSync(join(d, existsSync(join(d, 'memory.max_usage_in_bytes')) ? 'memory.max_usage_in_bytes' : 'memory.peak'), 'utf8'));
  console.log('memory peak of a busybox `sleep` container\'s cgroup (median of 5):');
  for (const [name, bin] of [['ctrun', ctrun], ['crun', 'crun'], ['runc', 'runc']]) {
    const peaks = [];
    let failure = null;
    for (let i = 0; i < 5 && !failure; i++) {
      const id = `ctr-bench-mem-${name}-${process.pid}-${i}`;
      const b = join(work, `mem-${id}`);
      mkdirSync(b);
      const cfg = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      cfg.process.args = ['sleep', '0.3'];
      cfg.linux.cgroupsPath = `/${id}`;
      cfg.linux.resources = { memory: { limit: 268435456 } };
      writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
      const root = `${stateBase}-${name}`;
      // A created container keeps `create`'s stdio: a file, never a pipe we wait on.
      const errFile = join(work, `err-${id}`);
      const fd = openSync(errFile, 'w');
      const c = spawnSync(bin, ['--root', root, 'create', '--bundle', b, id], { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      if (c.status !== 0) { failure = readFileSync(errFile, 'utf8').trim().split('\n').pop(); break; }
      spawnSync(bin, ['--root', root, 'start', id]);
      spawnSync('sleep', ['0.15']);
      const d = memDir(id);
      if (d) peaks.push(peakOf(d)); else failure = 'no memory cgroup found';
      spawnSync(bin, ['--root', root, 'delete', '--force', id]);
    }
    if (failure) console.log(`  ${name.padEnd(6)}  failed: ${failure}`);
    else console.log(`  ${name.padEnd(6)}  ${(median(peaks) / 1024).toFixed(0)} KiB`);
  }
  const crun = results.find((r) => r.name === 'crun run');
  const apiR = results.find((r) => r.name === 'API (in-process)');
  if (crun?.median && apiR?.median) console.log(`  in-process API / spawning crun run: ${(apiR.median / crun.median).toFixed(2)} (aim: <= 0.5)`);
} finally {
  if (prepare) undoCrun();
  rmSync(work, { recursive: true, force: true });
  for (const r of ['ctrun', 'crun', 'runc', 'api']) rmSync(`${stateBase}-${r}`, { recursive: true, force: true });
}
