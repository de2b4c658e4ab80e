import { Socket } from 'node:net';
import { Terminal } from '@ctr/ns';
import type { Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { exitResult, type Signal } from '@ctr/common';
import { call, RuntimeError } from './errors';
import { native } from './native';
import type { ExitResult } from './options';
import { signalNumber } from './signals';
import { RuntimeCodes } from './codes';

/**
 * A process started in a container by {@link Container.exec}: it is in
 * every namespace and the cgroup of the container's init, with the
 * container's seccomp filter. This process is its parent: {@link wait}
 * reaps it.
 */
export class ExecProcess {
  /** Host pid. */
  readonly pid: number;
  /** Its stdin, when piped. */
  readonly stdin: Writable | null;
  /** Its stdout, when piped. */
  readonly stdout: Readable | null;
  /** Its stderr, when piped. */
  readonly stderr: Readable | null;
  /**
   * With the `terminal` option (or `process.terminal`): the master side of
   * its pty (in the container's devpts), an `@ctr/ns` `Terminal` stream;
   * stdio then all go through it.
   */
  readonly terminal: Terminal | null;
  #exited: Promise<ExitResult> | null = null;
  #ended = false;

  /** @internal */
  constructor(pid: number, fds: number[], terminal = -1) {
    this.pid = pid;
    this.terminal = terminal >= 0 ? Terminal.fromFd(terminal) : null;
    const [i, o, e] = fds;
    this.stdin = i >= 0 ? new Socket({ fd: i, readable: false, writable: true }) : null;
    this.stdout = o >= 0 ? new Socket({ fd: o, readable: true, writable: false }) : null;
    this.stderr = e >= 0 ? new Socket({ fd: e, readable: true, writable: false }) : null;
    // Reap it even if nobody waits; a terminal nobody reads is closed then.
    void this.wait().then(
      () => {
        this.#ended = true;
        if (this.terminal && !this.terminal.readableFlowing) this.terminal.destroy();
      },
      () => undefined,
    );
  }

  /** Resolves with how the process ended (exit code, or the signal that killed it). */
  wait(): Promise<ExitResult> {
    this.#exited ??= call(() => native.execWait(this.pid)).then(exitResult);
    return this.#exited;
  }

  /**
   * Send a signal (default `SIGTERM`) through a pidfd, never to a reused
   * pid. Resolves true once sent, false when the process had already ended
   * (as every ctr `kill`: async, same signal spellings); an unknown signal
   * rejects with `ERUNTIME_SIGNAL`.
   */
  async kill(signal: Signal = 'SIGTERM'): Promise<boolean> {
    const n = signalNumber(signal);
    if (this.#ended) return false;
    try {
      call(() => native.execKill(this.pid, n));
      return true;
    } catch (e) {
      if (e instanceof RuntimeError && (e.code === RuntimeCodes.NotFound || e.errno === osConstants.errno.ESRCH)) return false;
      throw e;
    }
  }

  /** `await using p = await c.exec(...)`: `SIGKILL` it if still running and wait for its end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill('SIGKILL');
    await this.wait().catch(() => undefined);
  }
}
