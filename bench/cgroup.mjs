// @ctr/cgroup benchmarks (run as root after `pnpm run build`):
//   node bench/cgroup.mjs
// 1. stats() of one cgroup per second: the async API (off the main thread),
//    statsSync(), and the reference — reading and parsing the same files
//    with fs.readFileSync in plain JS.
// 2. create + delete of a cgroup per second: Cgroup.create()+delete()
//    against the reference fs.mkdirSync + fs.rmdirSync of the same
//    directories.
// Prints the median of several rounds and the ratios side by side.
import { readFileSync, mkdirSync, rmdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Cgroup } from '../packages/cgroup/dist/index.mjs';

const ROUNDS = 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function rate(fn, ms) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

/** Rounds alternate between ours and the reference (the machine is shared, its load drifts). */
async function compare(ours, ref, ms = 250) {
  const a = [], b = [], ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = await rate(ours, ms);
    const y = await rate(ref, ms);
    a.push(x);
    b.push(y);
    ratios.push(x / y);
  }
  return [median(a), median(b), median(ratios)];
}

const kv = (text) => Object.fromEntries(text.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
const num = (dir, f) => {
  try {
    const t = readFileSync(`${dir}/${f}`, 'utf8').trim();
    return t === 'max' ? undefined : Number(t);
  } catch {
    return undefined;
  }
};
const text = (dir, f) => {
  try {
    return readFileSync(`${dir}/${f}`, 'utf8');
  } catch {
    return undefined;
  }
};

/** The reference: the same files stats() reads, read and parsed in JS. */
function referenceStats(cg) {
  const byName = (c) => cg.dirs.find((d) => d.split('/').at(-2).split(',').includes(c));
  if (cg.version === 1) {
    const m = byName('memory'), ca = byName('cpuacct'), c = byName('cpu'), p = byName('pids'), b = byName('blkio');
    const ms = kv(text(m, 'memory.stat') ?? '');
    const oc = kv(text(m, 'memory.oom_control') ?? '');
    const st = kv(text(ca, 'cpuacct.stat') ?? '');
    const cs = kv(text(c, 'cpu.stat') ?? '');
    const io = {};
    for (const f of ['blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_serviced_recursive']) {
      for (const line of (text(b, f) ?? '').split('\n')) {
        const [dev, op, v] = line.split(' ');
        if (v !== undefined) (io[dev] ??= {})[`${f.includes('bytes') ? 'bytes' : 'ops'}${op}`] = Number(v);
      }
    }
    return {
      memory: { current: num(m, 'memory.usage_in_bytes'), peak: num(m, 'memory.max_usage_in_bytes'), limit: num(m, 'memory.limit_in_bytes'), failcnt: num(m, 'memory.failcnt'), cache: ms.total_cache, rss: ms.total_rss, swap: ms.total_swap, oomKill: oc.oom_kill },
      cpu: { usageUsec: num(ca, 'cpuacct.usage') / 1000, userUsec: st.user * 10000, systemUsec: st.system * 10000, nrPeriods: cs.nr_periods, nrThrottled: cs.nr_throttled, throttledUsec: cs.throttled_time / 1000 },
      pids: { current: num(p, 'pids.current'), limit: num(p, 'pids.max') },
      io,
    };
  }
  const d = cg.dirs[0];
  const ms = kv(text(d, 'memory.stat') ?? '');
  const ev = kv(text(d, 'memory.events') ?? '');
  const cs = kv(text(d, 'cpu.stat') ?? '');
  const io = {};
  for (const line of (text(d, 'io.stat') ?? '').trim().split('\n').filter(Boolean)) {
    const [dev, ...rest] = line.split(' ');
    io[dev] = Object.fromEntries(rest.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
  }
  return {
    memory: { current: num(d, 'memory.current'), peak: num(d, 'memory.peak'), limit: num(d, 'memory.max'), swap: num(d, 'memory.swap.current'), cache: ms.file, rss: ms.anon, failcnt: ev.max, oom: ev.oom, oomKill: ev.oom_kill },
    cpu: { usageUsec: cs.usage_usec, userUsec: cs.user_usec, systemUsec: cs.system_usec, nrPeriods: cs.nr_periods, nrThrottled: cs.nr_throttled, throttledUsec: cs.throttled_usec },
    pids: { current: num(d, 'pids.current'), limit: num(d, 'pids.max') },
    io,
  };
}

const name = `/ctrbench-cgroup-${process.pid}`;
const cg = await Cgroup.create(name, { memory: { max: '256m' }, pids: { max: 100 } });
const child = spawn('sleep', ['60'], { stdio: 'ignore' });
await new Promise((r) => child.once('spawn', r));
await cg.addProcess(child.pid);
try {
  const ref = referenceStats(cg);
  const ours = cg.statsSync();
  if (ref.memory.limit !== ours.memory.limit || ref.pids.limit !== ours.pids.limit) throw new Error('reference and stats() disagree');

  const dirs = cg.dirs.map((d) => d.replace(name, `${name}-ref`));
  let i = 0;
  const row = (what, [ours, ref, ratio]) => console.log(`${what.padEnd(36)} ${ours.toFixed(0).padStart(7)}/s   reference ${ref.toFixed(0).padStart(7)}/s   ratio ${ratio.toFixed(2)}`);
  console.log(`cgroup v${cg.version} back end, ${cg.dirs.length} hierarchy directories; medians of ${ROUNDS} alternating rounds`);
  row('stats() async (off main thread)', await compare(() => cg.stats(), () => referenceStats(cg)));
  row('statsSync()', await compare(() => cg.statsSync(), () => referenceStats(cg)));
  console.log('  reference: the same files via fs.readFileSync + parsing in JS');
  row('Cgroup.create() + delete()', await compare(async () => {
    const c = await Cgroup.create(`${name}-cd-${i++}`);
    await c.delete();
  }, () => {
    for (const d of dirs) mkdirSync(d);
    for (const d of dirs) rmdirSync(d);
  }));
  console.log('  reference: fs.mkdirSync + fs.rmdirSync of the same directories');
} finally {
  child.kill('SIGKILL');
  await cg.delete({ kill: true });
}
