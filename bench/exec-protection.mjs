// bench/exec-protection.mjs: what the escape protections of docs/security.md
// cost, side by side with crun.
//
//   node bench/exec-protection.mjs [--runs 100] [--baseline /path/to/old/ctrun]
//
// 1. The exec helper alone (crates/ctr-ns/examples/exec_helper_bench.rs):
//    fork+exec of a program directly and through the sealed helper memfd
//    (the extra execve every container start pays), and the one-time cost
//    of making the memfd.
// 2. `ctrun run` of /bin/true on the busybox bundle (with every protection:
//    exec helper, fd closing and cwd check, cgroupns after the cgroup move,
//    the ENOSYS seccomp stub when a profile is set), `crun run` on the same
//    bundle, and optionally an older ctrun (`--baseline`, e.g. a build from
//    before the protections) in rotated blocks. crun 1.8.1 refuses hybrid
//    hosts whose cgroup2 hierarchy has controllers ("cgroups in hybrid mode
//    not supported"): then the bench re-runs itself in a private mount
//    namespace (`unshare -m`) where an empty file is bound over
//    /sys/fs/cgroup/unified/cgroup.controllers, so crun (and ctrun, for the
//    same conditions) see no v2 controllers. Nothing changes outside that
//    namespace (unlike mounting the missing v1 hierarchies, which is
//    host-wide: bench/lifecycle.mjs --prepare-crun).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctrun, median, repo, requireRootAndRootfs, timeRotated, writeBundle } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const runs = Number(opt('--runs')) || 100;
const baseline = opt('--baseline');
requireRootAndRootfs();

const controllers = '/sys/fs/cgroup/unified/cgroup.controllers';
if (process.env.CTR_BENCH_PRIVATE_NS === '1') {
  const empty = join(tmpdir(), `ctr-bench-empty-${process.pid}`);
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

const helper = spawnSync('cargo', ['run', '-q', '--release', '-p', 'ctr-ns', '--example', 'exec_helper_bench', '--', String(runs * 4)], {
  cwd: repo,
  encoding: 'utf8',
});
process.stdout.write(helper.status === 0 ? helper.stdout : `exec helper bench failed: ${helper.stderr}\n`);

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-protection-'));
const bundle = writeBundle(join(work, 'bundle'), ['/bin/true']);
const stateBase = `/run/ctr-bench-protection-${process.pid}`;
let n = 0;
const runOnce = (bin, root) => () => {
  const id = `ctr-bench-prot-${process.pid}-${n++}`;
  const r = spawnSync(bin, ['--root', root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    throw new Error(`${bin}: exit ${r.status}: ${String(r.stderr).trim().split('\n').pop()}`);
  }
};

const cases = { 'ctrun run': runOnce(ctrun, `${stateBase}-ctrun`) };
if (baseline) cases['baseline ctrun run'] = runOnce(baseline, `${stateBase}-base`);
try {
  runOnce('crun', `${stateBase}-crun`)();
  cases['crun run'] = runOnce('crun', `${stateBase}-crun`);
} catch (e) {
  console.log(`crun run: ${e.message} (see bench/lifecycle.mjs --prepare-crun)`);
}
try {
  const times = await timeRotated(
    Object.fromEntries(Object.entries(cases).map(([k, f]) => [k, async () => f()])),
    runs,
  );
  const base = median(times['ctrun run']);
  console.log(`container start: ${runs} x run of /bin/true on the busybox bundle (rotated blocks)`);
  for (const [name, t] of Object.entries(times)) {
    console.log(`  ${name.padEnd(20)} median ${median(t).toFixed(2)} ms  min ${t[0].toFixed(2)} ms  ctrun / this ${(base / median(t)).toFixed(2)}x`);
  }
} finally {
  for (const s of ['ctrun', 'base', 'crun']) rmSync(`${stateBase}-${s}`, { recursive: true, force: true });
  rmSync(join(tmpdir(), `ctr-bench-empty-${process.pid}`), { force: true });
  rmSync(work, { recursive: true, force: true });
}
