// Helpers shared by every test suite (not published): stated skips, the
// layout the tests run on, and leftover checks.
import { readdirSync, readFileSync, existsSync } from 'node:fs';

/**
 * Mark the running test as skipped, with the reason. uvu has no run-time
 * skip, so the line is printed and `scripts/test.mjs` counts it: the test
 * shows as skipped in the summary, never silently as passed.
 */
export function skip(name: string, reason: string): void {
  process.stdout.write(`\nSKIP: ${name}: ${reason}\n`);
}

/** True when running as root (most integration tests need it). */
export const isRoot = process.getuid?.() === 0;

/** The cgroup layout of this host: what `@ctr/cgroup` detect() would say. */
export function cgroupLayout(): 'legacy' | 'hybrid' | 'unified' {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const v1 = / - cgroup /.test(mounts);
  const v2 = / - cgroup2 /.test(mounts);
  return v1 && v2 ? 'hybrid' : v2 ? 'unified' : 'legacy';
}

/** Pids of this process's children (from /proc/PID/stat), zombies included. */
export function childPids(parent = process.pid): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent) out.push(Number(d));
    } catch {
      // raced with an exit
    }
  }
  return out;
}

/** The mount points this process sees. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]);
}

/** Open fds of this process. */
export function openFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number);
}

/** What a test may leave behind, to compare before and after. */
export interface Snapshot {
  mounts: string[];
  children: number[];
  fds: number[];
}

/** Take a snapshot of mounts, child processes and fds. */
export function snapshot(): Snapshot {
  return { mounts: mountPoints(), children: childPids(), fds: openFds() };
}

/**
 * Describe what is in `after` but not in `before` (empty when clean). Fds
 * are compared loosely: Node opens a few of its own lazily, so only growth
 * beyond `fdSlack` counts.
 */
export function leftovers(before: Snapshot, after: Snapshot = snapshot(), fdSlack = 8): string[] {
  const problems: string[] = [];
  const newMounts = after.mounts.filter((m) => !before.mounts.includes(m));
  if (newMounts.length) problems.push(`mounts left: ${newMounts.join(', ')}`);
  const newChildren = after.children.filter((p) => !before.children.includes(p));
  if (newChildren.length) problems.push(`child processes left: ${newChildren.join(', ')}`);
  if (after.fds.length > before.fds.length + fdSlack) problems.push(`fds grew from ${before.fds.length} to ${after.fds.length}`);
  return problems;
}

/** Wait until `check` returns true, polling, up to `ms`. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

/** Whether a path exists (a thin alias for readability in tests). */
export const exists = existsSync;
