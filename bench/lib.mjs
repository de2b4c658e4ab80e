// Shared by the benchmarks: repo paths, the busybox bundle every runtime
// comparison uses, and the timing helpers (medians, rotated blocks).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root (no trailing slash). */
export const repo = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
/** The busybox rootfs scripts/setup.sh builds. */
export const rootfs = join(repo, '.cache/rootfs/busybox');
/** The built ctrun: the package's copy, else cargo's release build. */
export const ctrun = existsSync(join(repo, 'packages/runtime/bin/ctrun')) ? join(repo, 'packages/runtime/bin/ctrun') : join(repo, 'target/x86_64-unknown-linux-gnu/ctrun/ctrun');

/** Runtime comparisons run as root on the busybox rootfs: fail early and clearly otherwise. */
export function requireRootAndRootfs() {
  if (process.getuid() !== 0) throw new Error('run as root');
  if (!existsSync(join(rootfs, 'bin/busybox'))) throw new Error('no busybox rootfs: bash scripts/make-rootfs.sh');
}

/**
 * Write `dir/config.json`: one config for every runtime compared, with the
 * namespaces and mounts of a typical container, running `args`.
 */
export function writeBundle(dir, args) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    ociVersion: '1.0.2',
    root: { path: rootfs },
    hostname: 'bench',
    process: { terminal: false, cwd: '/', args, env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
  }));
  return dir;
}

/** The `p` quantile (0..1) of sorted `xs`. */
export const quantile = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/** The median of `xs` (any order). */
export const median = (xs) => quantile([...xs].sort((a, b) => a - b), 0.5);

/**
 * Time each async case `n` times after 20 warm-up calls, in blocks of n/3
 * runs per case rotated three times: each block runs on its own (teardown
 * from another case does not leak into it) and slow drifts of the machine's
 * load hit every case alike. Returns each case's times in ms, sorted.
 */
export async function timeRotated(cases, n) {
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const fn of Object.values(cases)) for (let i = 0; i < 20; i++) await fn();
  const block = Math.max(1, Math.round(n / 3));
  for (let round = 0; round < 3; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      for (let i = 0; i < block; i++) {
        const t = process.hrtime.bigint();
        await fn();
        times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
  }
  for (const t of Object.values(times)) t.sort((a, b) => a - b);
  return times;
}
