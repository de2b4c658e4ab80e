// bench/exec.mjs: N sequential `exec <id> /bin/true` into one running
// busybox container, `ctrun exec` against Debian's `runc exec`, side by
// side, medians and ratio. Run as root from the repo root:
//
//   node bench/exec.mjs [--runs 50]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 50;
const repo = resolve(new URL('..', import.meta.url).pathname);
const rootfs = join(repo, '.cache/rootfs/busybox');
const ctrun = existsSync(join(repo, 'packages/runtime/bin/ctrun')) ? join(repo, 'packages/runtime/bin/ctrun') : join(repo, 'target/release/ctrun');
if (process.getuid() !== 0) throw new Error('run as root');
if (!existsSync(join(rootfs, 'bin/busybox'))) throw new Error('no busybox rootfs: bash scripts/make-rootfs.sh');

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-exec-'));
const bundle = join(work, 'bundle');
mkdirSync(bundle);
writeFileSync(join(bundle, 'config.json'), JSON.stringify({
  ociVersion: '1.0.2',
  root: { path: rootfs },
  hostname: 'bench',
  process: { terminal: false, cwd: '/', args: ['sleep', '1000'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ],
  linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
}));
const stateBase = `/run/ctr-bench-exec-${process.pid}`;

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

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
