// Helpers of the @ctr/cgroup suites: unique names, processes started inside
// a cgroup, and a leftover check over every hierarchy.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Cgroup } from '../src/index';
import { cgroupDirsNamed } from '../../../test-support';

let n = 0;
/** A prefix no other suite or process uses. */
export const PREFIX = `ctrtest-cgroup-${process.pid}-`;
/** A fresh absolute cgroup path. */
export const fresh = (): string => `/${PREFIX}${n++}`;

/** Every cgroup directory named with our prefix, in every hierarchy, at any depth (the shared checker of test-support). */
export function leftoverDirs(): string[] {
  return cgroupDirsNamed(PREFIX);
}

/** A started process and its end. */
export interface Started {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/**
 * Start `cmd` so that it runs inside `cg` from its first instruction: a
 * shell waits on stdin, is moved in, then execs the command.
 */
export async function startIn(cg: Cgroup, cmd: string[]): Promise<Started> {
  const child = spawn('/bin/sh', ['-c', 'read _ && exec "$@"', 'sh', ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise((r) => child.once('spawn', r));
  try {
    await cg.addProcess(child.pid!);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  child.stdin!.end('go\n');
  return { child, pid: child.pid!, exited, output: () => out };
}

/** Resolve with `p`, or reject after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]);
}

/** Sleep. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** cpu time (user+system, ticks) of a process from /proc. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
