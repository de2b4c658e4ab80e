// Shared by this package's suites: paths to the shared data and the
// syscall helper binary, built once per process with cc -static.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The repo root (the folder with pnpm-workspace.yaml above the cwd). */
export function repoRoot(): string {
  let d = process.cwd();
  while (!existsSync(join(d, 'pnpm-workspace.yaml'))) {
    const up = dirname(d);
    if (up === d) throw new Error('repo root not found');
    d = up;
  }
  return d;
}

/** Docker's default.json, vendored in the repository's test-data/. */
export const dockerDefaultPath = resolve(repoRoot(), 'test-data/docker-seccomp/default.json');

/** A scratch folder unique to this process (removed by cleanup()). */
export const scratch = `/tmp/ctrtest-seccomp-${process.pid}`;

let helper: string | null = null;

/** Path of the syscall helper (test/helpers/sc.c), built on first use. */
export function scHelper(): string {
  if (helper) return helper;
  mkdirSync(scratch, { recursive: true });
  const out = join(scratch, 'sc');
  execFileSync('cc', ['-static', '-O2', '-o', out, join(repoRoot(), 'packages/seccomp/test/helpers/sc.c')]);
  helper = out;
  return out;
}

/** Parse the helper's "NR ret=R errno=E" lines. */
export function parseSc(stdout: string): Array<{ nr: number; ret: number; errno: number }> {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^(-?\d+) ret=(-?\d+) errno=(\d+)$/.exec(l);
      if (!m) throw new Error(`bad helper line ${l}`);
      return { nr: Number(m[1]), ret: Number(m[2]), errno: Number(m[3]) };
    });
}

/** Remove the scratch folder. */
export function cleanup(): void {
  rmSync(scratch, { recursive: true, force: true });
}
