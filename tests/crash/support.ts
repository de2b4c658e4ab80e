// Shared by the crash and soak suites.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How a command ended, how long it took, what it printed. */
export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  out: string;
}

let logN = 0;
/**
 * Run a command; with `killAfter`, SIGKILL it after that many ms. Its
 * output goes to a file, not a pipe: a container inherits the runtime's
 * stdio, and a pipe would stay open as long as the container runs.
 */
export function run(cmd: string, args: string[], killAfter?: number): Promise<Ran> {
  return new Promise((done) => {
    const log = join(tmpdir(), `ctrtest-crashlog-${process.pid}-${logN++}`);
    const fd = openSync(log, 'w');
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const timer = killAfter === undefined ? null : setTimeout(() => p.kill('SIGKILL'), killAfter);
    p.on('exit', (code, signal) => {
      const ms = performance.now() - t0;
      if (timer) clearTimeout(timer);
      const out = readFileSync(log, 'utf8');
      rmSync(log, { force: true });
      done({ code, signal, ms, out });
    });
  });
}

