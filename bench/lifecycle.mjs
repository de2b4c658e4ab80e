// bench/lifecycle.mjs: N sequential create+start+wait+delete of /bin/true on
// the busybox bundle with `ctrun run`, `crun run` and `runc run` (Debian's),
// side by side, medians and ratios. Run as root from the repo root:
//
//   node bench/lifecycle.mjs [--runs 100] [--prepare-crun]
//
// crun 1.8.1 refuses hybrid hosts whose enabled v1 controllers lack a
// hierarchy ("cgroups in hybrid mode not supported"). --prepare-crun mounts
// the missing ones (hugetlb, net_cls+net_prio, perf_event) as systemd does,
// and unmounts them at the end. Without it, crun is tried and its error shown.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, symlinkSync, rmSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 100;
const prepare = argv.includes('--prepare-crun');
const repo = resolve(new URL('..', import.meta.url).pathname);
const rootfs = join(repo, '.cache/rootfs/busybox');
const ctrun = existsSync(join(repo, 'packages/runtime/bin/ctrun')) ? join(repo, 'packages/runtime/bin/ctrun') : join(repo, 'target/release/ctrun');
if (process.getuid() !== 0) throw new Error('run as root');
if (!existsSync(join(rootfs, 'bin/busybox'))) throw new Error('no busybox rootfs: bash scripts/make-rootfs.sh');

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-lifecycle-'));
const bundle = join(work, 'bundle');
mkdirSync(bundle);

// One config for all three: the namespaces and mounts of a typical container.
writeFileSync(join(bundle, 'config.json'), JSON.stringify({
  ociVersion: '1.0.2',
  root: { path: rootfs },
  hostname: 'bench',
  process: { terminal: false, cwd: '/', args: ['/bin/true'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ],
  linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
}));

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
function undoCrun() {
  for (const m of mounted.reverse()) {
    if (m.startsWith('link:')) rmSync(m.slice(5), { force: true });
    else { spawnSync('umount', [m]); spawnSync('rmdir', [m]); }
  }
}

function median(a) { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; }

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
  const base = results[0].median;
  console.log(`lifecycle: ${runs} x run of /bin/true on the busybox bundle (sequential)`);
  for (const r of results) {
    if (r.error) console.log(`  ${r.name.padEnd(10)}  failed: ${r.error}`);
    else console.log(`  ${r.name.padEnd(10)}  median ${r.median.toFixed(2)} ms  min ${r.min.toFixed(2)} ms  ratio to ctrun ${(r.median / base).toFixed(2)}x`);
  }
} finally {
  if (prepare) undoCrun();
  rmSync(work, { recursive: true, force: true });
  for (const r of ['ctrun', 'crun', 'runc']) rmSync(`${stateBase}-${r}`, { recursive: true, force: true });
}
