import { Socket } from 'node:net';
import { Terminal } from '@ctr/ns';
import type { Readable, Writable } from 'node:stream';
import { exitResult } from '@ctr/common';
import { call } from './errors';
import { native } from './native';
import type { ExitResult } from './options';
import { signalNumber } from './signals';

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

  /** Send a signal (through a pidfd: never to a reused pid). */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): void {
    call(() => native.execKill(this.pid, signalNumber(signal)));
  }
}
