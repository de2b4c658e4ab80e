import { constants as osConstants } from 'node:os';
import { Container } from './container';
import { RuntimeError } from './errors';
import type { RunOptions, RunResult } from './options';
import { RuntimeCodes } from './codes';

export { configFor } from './spec';

let seq = 0;

/**
 * Run a command in a new container and collect its output, in-process:
 * create + start + wait + delete over the same lifecycle as `ctrun run`.
 * Network, limits and seccomp come from the friendly options; every trace
 * (container, cgroup, network attachment) is gone when it settles.
 */
export async function run(opts: RunOptions): Promise<RunResult> {
  const { id: givenId, root, input, signal, ...spec } = opts;
  const id = givenId ?? `ctr-run-${process.pid}-${Date.now().toString(36)}-${seq++}`;
  const aborted = () => new RuntimeError({ code: RuntimeCodes.Aborted, message: `container ${id} aborted` });
  const c = await Container.create({ ...spec, id, root, stdio: ['pipe', 'pipe', 'pipe'], signal }).catch((e: unknown) => {
    throw signal?.aborted ? aborted() : e;
  });
  try {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let oom = false;
    c.on('oom', () => (oom = true));
    c.stdout?.on('data', (d: Buffer) => out.push(d));
    c.stderr?.on('data', (d: Buffer) => err.push(d));
    c.terminal?.on('data', (d: Buffer) => out.push(d));
    c.terminal?.on('error', () => undefined);
    const closed = Promise.all([c.stdout, c.stderr, c.terminal].map((s) => new Promise<void>((r) => (s ? s.on('close', () => r()) : r()))));
    let exit;
    try {
      await c.start();
      c.stdin?.on('error', () => undefined);
      c.stdin?.end(input ?? '');
      if (c.terminal && input !== undefined) c.terminal.write(input);
      exit = await c.wait();
    } catch (e) {
      // The abort may delete the container under start() or wait().
      throw signal?.aborted ? aborted() : e;
    }
    if (signal?.aborted) {
      c.stdout?.destroy();
      c.stderr?.destroy();
      c.terminal?.destroy();
      throw aborted();
    }
    await closed;
    // The OOM notification may trail the exit a little.
    for (let i = 0; exit.signal === 'SIGKILL' && !oom && i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    const status = exit.exitCode ?? 128 + ((exit.signal && (osConstants.signals as Record<string, number>)[exit.signal]) || 0);
    return { ...exit, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), oom, status };
  } finally {
    await c.delete({ force: true }).catch(() => undefined);
  }
}
