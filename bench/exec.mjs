// bench/exec.mjs: N sequential `exec <id> /bin/true` into one running
// busybox container, `ctrun exec` against Debian's `runc exec`, side by
// side, medians and ratio. Run as root from the repo root:
//
//   node bench/exec.mjs [--runs 50]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctrun, median, requireRootAndRootfs, writeBundle } from './lib.mjs';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 50;
requireRootAndRootfs();

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-exec-'));
const bundle = writeBundle(join(work, 'bundle'), ['sleep', '1000']);
const stateBase = `/run/ctr-bench-exec-${process.pid}`;

function bench(name, bin) {
  const root = join(stateBase, name);
  const id = `bench-exec-${process.pid}-${name}`;
  // The container keeps the stdio of `run -d`: no pipes (they would never close).
  const r = spawnSync(bin, ['--root', root, 'run', '-d', '-b', bundle, id], { stdio: 'ignore' });
  if (r.status !== 0) return { name, error: `${name} run -d failed (${r.status})` };
  const times = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      const e = spawnSync(bin, ['--root', root, 'exec', id, '/bin/true'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (e.status !== 0) return { name, error: e.stderr.trim() };
    }
  } finally {
    spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
  }
  return { name, median: median(times) };
}

try {
  const results = [bench('ctrun', ctrun), bench('runc', 'runc')];
  const base = results[0].median;
  console.log(`exec /bin/true into a running container, ${runs} runs each (median ms)`);
  for (const r of results) {
    if (r.error) console.log(`  ${r.name.padEnd(6)} error: ${r.error}`);
    else console.log(`  ${r.name.padEnd(6)} ${r.median.toFixed(2).padStart(8)} ms   ${(r.median / base).toFixed(2)}x ctrun`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(stateBase, { recursive: true, force: true });
}
