// bench/_alive-profile.mjs: where the extra time of a launch goes with many
// containers alive (bench/floor.mjs section 6), as a CPU profile of the
// whole process tree, per launch, first launches against last.
//
//   node bench/_alive-profile.mjs [--alive 500] [--window 50] [--runtime api,crun] [--keep DIR]
//
// For each runtime, two runs of `--alive` launches of a busybox `sleep`
// container (create + start; crun: `run --detach`), each under
// `perf record -g` that follows every process of the run (Node, its worker
// threads, the spawner, each container init; crun's tree) but records only
// during the first `--window` launches in one run and the last ones in the
// other (`perf record --control`). Samples are then divided by the window:
// CPU ms per launch, by process name and by system call, and for the kernel
// functions that grow with the number alive (`--keep DIR` keeps the
// perf.data files there for `perf report`). Needs root, the busybox rootfs
// and `perf` (Debian: linux-perf); not run by `npm run bench` (the leading
// underscore): a diagnostic, not a measure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repo, requireRootAndRootfs, writeBundle } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const aliveN = Number(opt('--alive')) || 500;
const win = Number(opt('--window')) || 50;
const runtimes = (opt('--runtime') ?? 'api,crun').split(',');
const HZ = 4000;
const self = fileURLToPath(import.meta.url);

/** Kernel functions seen to grow with the containers alive (docs/performance.md). */
const WATCH = [
  'cpuset_write_resmask', 'cpuset_write_u64', 'validate_change', 'partition_sched_domains', 'dl_rebuild_rd_accounting',
  '__do_sys_pivot_root', 'chroot_fs_refs', 'copy_net_ns', 'copy_mnt_ns', 'cgroup_mkdir', 'cgroup_attach_task',
  'kernfs_iop_lookup', 'kernfs_find_ns', 'sget_fc', 'copy_process',
];

// ---- one run, inside perf (the child side) --------------------------------
if (process.env.CTR_ALIVE_PROFILE_RUN) {
  const [runtime, window, ctl] = process.env.CTR_ALIVE_PROFILE_RUN.split(':');
  const perfCtl = (cmd) => {
    const fd = openSync(`${ctl}.ctl`, 'w');
    writeSync(fd, `${cmd}\n`);
    closeSync(fd);
    const ack = openSync(`${ctl}.ack`, 'r');
    readSync(ack, Buffer.alloc(16));
    closeSync(ack);
  };
  // As bench/floor.mjs: crun refuses this hybrid host unless the cgroup2
  // controllers are hidden; state on a private tmpfs (this process runs in
  // a mount namespace of its own).
  const controllers = '/sys/fs/cgroup/unified/cgroup.controllers';
  const empty = join(tmpdir(), `ctr-alive-profile-empty-${process.pid}`);
  writeFileSync(empty, '');
  spawnSync('mount', ['--bind', empty, controllers]);
  const root = `/run/ctr-alive-profile-${process.pid}`;
  mkdirSync(root, { recursive: true });
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'tmpfs', root]);
  const bundle = writeBundle(join(root, 'bundle'), ['sleep', '3600']);
  const { Container } = createRequire(import.meta.url)(join(repo, 'packages/runtime/dist/index.cjs'));
  const live = [];
  try {
    for (let i = 0; i < aliveN; i++) {
      const on = window === 'first' ? i === 0 : i === aliveN - win;
      const off = window === 'first' ? i === win : false;
      if (on) perfCtl('enable');
      if (off) perfCtl('disable');
      const id = `ctr-ap-${process.pid}-${i}`;
      if (runtime === 'crun') {
        const r = spawnSync('crun', ['--root', root, 'run', '--detach', '--bundle', bundle, id], { stdio: 'ignore' });
        if (r.status !== 0) throw new Error(`crun run: exit ${r.status}`);
        live.push(() => spawnSync('crun', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' }));
      } else {
        const c = await Container.create({ id, bundle, root, stdio: 'ignore' });
        live.push(() => c.delete({ force: true }).catch(() => undefined));
        await c.start();
      }
    }
    if (window === 'last') perfCtl('disable');
  } finally {
    for (const d of live) await d();
    spawnSync('umount', [root]);
    rmSync(root, { recursive: true, force: true });
    spawnSync('umount', [controllers]);
    rmSync(empty, { force: true });
  }
  process.exit(0);
}

// ---- the driver -------------------------------------------------------------
requireRootAndRootfs();
if (spawnSync('perf', ['--version']).status !== 0) {
  console.log('SKIP: perf is not installed (Debian: apt install linux-perf)');
  process.exit(0);
}
const keep = opt('--keep');
if (keep) mkdirSync(keep, { recursive: true });
const work = keep ?? mkdtempSync(join(tmpdir(), 'ctr-alive-profile-'));

/** Per-launch CPU ms of one window: by name, by system call, and of WATCH. */
function profile(runtime, window) {
  const base = join(work, `${runtime}-${window}`);
  for (const f of ['ctl', 'ack']) spawnSync('mkfifo', [`${base}.${f}`]);
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'perf', 'record', '-g', '-F', String(HZ), '-D', '-1',
    '--control', `fifo:${base}.ctl,${base}.ack`, '-o', `${base}.data`, '--', process.execPath, self, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CTR_ALIVE_PROFILE_RUN: `${runtime}:${window}:${base}` },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`perf record (${runtime}, ${window}): exit ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  const out = spawnSync('perf', ['script', '-i', `${base}.data`, '-F', 'comm,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
  const per = { total: 0, comm: new Map(), sys: new Map(), watch: new Map() };
  const add = (m, k) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const block of out.split('\n\n')) {
    const lines = block.trim().split('\n').filter(Boolean);
    if (lines.length === 0) continue;
    per.total++;
    const comm = lines[0].trim().split(/\s+/)[0];
    add(per.comm, comm);
    const syms = lines.slice(1).map((l) => (l.trim().split(/\s+/)[1] ?? '').split('+')[0]);
    // The system call: its __x64_sys_/__do_sys_ frame, else the frame under
    // the syscall dispatch (inlined entry points), else user space.
    let sys = 'user space';
    for (let i = 0; i < syms.length; i++) {
      const m = /^(?:__x64_sys_|__do_sys_)(\w+)/.exec(syms[i]);
      if (m) { sys = m[1]; break; }
      if ((syms[i] === 'x64_sys_call' || syms[i] === 'do_syscall_64') && i > 0) { sys = syms[i - 1]; break; }
      if (/^asm_exc_page_fault/.test(syms[i])) { sys = 'page fault'; break; }
    }
    add(per.sys, `${comm} ${sys}`);
    for (const w of WATCH) if (syms.includes(w)) add(per.watch, w);
  }
  const ms = (n) => (n / HZ) * 1000 / win;
  return { total: ms(per.total), comm: per.comm, sys: per.sys, watch: per.watch, ms };
}

try {
  console.log(`alive-profile: ${aliveN} alive, windows of ${win} launches, perf -F ${HZ} (CPU ms per launch, first -> last)`);
  for (const rt of runtimes) {
    const a = profile(rt, 'first');
    const b = profile(rt, 'last');
    console.log(`\n${rt}: whole tree ${a.total.toFixed(3)} -> ${b.total.toFixed(3)} ms (${(b.total - a.total >= 0 ? '+' : '')}${(b.total - a.total).toFixed(3)})`);
    const rows = (ma, mb, n) => [...new Set([...ma.keys(), ...mb.keys()])]
      .map((k) => [k, a.ms(ma.get(k) ?? 0), b.ms(mb.get(k) ?? 0)])
      .sort((x, y) => (y[2] - y[1]) - (x[2] - x[1]))
      .slice(0, n);
    console.log('  by process name:');
    for (const [k, x, y] of rows(a.comm, b.comm, 8)) console.log(`    ${k.padEnd(24)} ${x.toFixed(3)} -> ${y.toFixed(3)}`);
    console.log('  by system call, largest growth first:');
    for (const [k, x, y] of rows(a.sys, b.sys, 10)) console.log(`    ${k.padEnd(40)} ${x.toFixed(3)} -> ${y.toFixed(3)} (${(y - x).toFixed(3)})`);
    console.log('  kernel functions known to grow (anywhere in the stack):');
    for (const w of WATCH) {
      const x = a.ms(a.watch.get(w) ?? 0);
      const y = b.ms(b.watch.get(w) ?? 0);
      if (x || y) console.log(`    ${w.padEnd(28)} ${x.toFixed(3)} -> ${y.toFixed(3)} (${(y - x).toFixed(3)})`);
    }
  }
} finally {
  if (keep) {
    for (const rt of runtimes) for (const w of ['first', 'last']) for (const f of ['ctl', 'ack']) rmSync(join(work, `${rt}-${w}.${f}`), { force: true });
    console.log(`\nperf data kept in ${keep} (<runtime>-first.data, <runtime>-last.data)`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
}
