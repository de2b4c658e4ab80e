import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { exitResult, type Signal } from '@ctr/common';
import { call, NsError } from './errors';
import { native, type NativeChild, type NativeTerminal } from './native';
import { Terminal } from './terminal';
import type { ExitResult, RunResult, SpawnOptions } from './options';
import { NAMESPACE_TYPES, type NamespaceName, type NamespaceType } from './options';
import { differingNamespaces, signalNumber, toRequest } from './request';
import { NsCodes } from './codes';

/**
 * A process spawned into namespaces. Shaped like Node's `ChildProcess`:
 * `pid`, `stdin`/`stdout`/`stderr` streams, `kill()`, and the events
 * `'spawn'`, `'error'`, `'exit'` (code, signal), `'close'` (after the
 * streams closed too) and `'seccomp-listener'` (fd). It also offers
 * promises: {@link spawned} and
 * {@link exited}.
 */
export class NsChildProcess extends EventEmitter {
  /** The child's pid in the host's pid namespace. */
  readonly pid: number;
  /** The child's stdin, when piped. */
  readonly stdin: Writable | null;
  /** The child's stdout, when piped. */
  readonly stdout: Readable | null;
  /** The child's stderr, when piped. */
  readonly stderr: Readable | null;
  /**
   * With `terminal` (and no `consoleSocket`): the master side of the
   * child's pty as a Duplex stream (its output, and its input when
   * written to), with {@link Terminal.resize}.
   */
  readonly terminal: Terminal | null;
  /**
   * Resolves once the program runs (or, with `hold`, once the child waits
   * at the gate); rejects with an {@link NsError} naming the failed step.
   */
  readonly spawned: Promise<void>;
  /** Resolves with how the child ended; rejects if it never started. */
  readonly exited: Promise<ExitResult>;
  /** Exit code once exited, else `null`. */
  exitCode: number | null = null;
  /** Terminating signal once killed, else `null`. */
  signalCode: NodeJS.Signals | null = null;
  /**
   * With `seccompListener: true`: the seccomp user-notification listener
   * fd (a number in this process), set before {@link spawned} resolves
   * and announced by the `'seccomp-listener'` event (fd) as soon as the
   * filter is installed, before the child execs. The caller owns it and
   * must close it; while nobody reads it, notified syscalls block, and
   * once it is closed they fail with `ENOSYS`.
   */
  seccompListenerFd: number | null = null;

  #native: NativeChild;
  #attachTerminal: (ok: boolean) => void;
  #held: boolean;
  #done = false;

  /** @internal Use {@link spawn}. */
  constructor(nativeChild: NativeChild, hold: boolean, opts: SpawnOptions) {
    super();
    this.#native = nativeChild;
    this.#held = hold;
    this.pid = nativeChild.pid;
    const [inFd, outFd, errFd] = nativeChild.takeStdio();
    this.stdin = inFd >= 0 ? new Socket({ fd: inFd, readable: false, writable: true }) : null;
    this.stdout = outFd >= 0 ? new Socket({ fd: outFd, readable: true, writable: false }) : null;
    this.stderr = errFd >= 0 ? new Socket({ fd: errFd, readable: true, writable: false }) : null;
    let attach: ((t: NativeTerminal) => void) | null = null;
    let fail: ((err: unknown) => void) | null = null;
    this.terminal =
      opts.terminal && opts.consoleSocket === undefined
        ? new Terminal(
            new Promise<NativeTerminal>((resolve, reject) => {
              attach = resolve;
              fail = reject;
            }),
          )
        : null;
    this.#attachTerminal = (ok) => {
      if (!this.terminal) return;
      const t = ok ? this.#native.takeConsole() : null;
      if (t) attach!(t);
      else fail!(new NsError({ code: NsCodes.Console, message: 'no pty master came back from the child' }));
    };

    const exit = call(() => nativeChild.waitExit());
    // When the child fails before exec, waitStage reaps it and this one
    // fails with ECHILD; `exited` then reports the spawn error instead.
    exit.catch(() => undefined);
    this.spawned = this.#waitSetup().then(
      () => this.#attachTerminal(true),
      (err: unknown) => {
        this.#attachTerminal(false);
        throw err;
      },
    );
    this.exited = this.spawned.then(
      () => exit,
      (err: unknown) => {
        throw err;
      },
    ).then((info) => {
      const result: ExitResult = exitResult(info);
      this.exitCode = result.exitCode;
      this.signalCode = result.signal;
      return result;
    });
    // Callers may use events only; never let these become unhandled.
    this.spawned.catch(() => undefined);
    this.exited.catch(() => undefined);

    this.spawned.then(
      () => this.emit('spawn'),
      (err: unknown) => {
        this.#finish();
        if (this.listenerCount('error') > 0) this.emit('error', err);
        this.#closeStreams();
      },
    );
    this.exited.then((r) => {
      this.#finish();
      this.emit('exit', r.exitCode, r.signal);
      this.#emitCloseAfterStreams(r);
    }, () => undefined);

    if (opts.signal) {
      const killSignal = opts.killSignal ?? 'SIGKILL';
      const onAbort = () => void this.kill(killSignal).catch(() => undefined);
      if (opts.signal.aborted) onAbort();
      else {
        opts.signal.addEventListener('abort', onAbort, { once: true });
        this.exited.finally(() => opts.signal?.removeEventListener('abort', onAbort)).catch(() => undefined);
      }
    }
  }

  async #waitSetup(): Promise<void> {
    // A simple plan is spawned vfork-style: the child has already exec'd
    // (or failed) and the answer is there without a round trip.
    const now = call(() => this.#native.stageNow());
    if (now === 'running' || now === 'held') return;
    for (;;) {
      const stage = await call(() => this.#native.waitStage());
      if (stage !== 'seccomp-listener') return;
      const fd = this.#native.takeSeccompListener();
      if (fd >= 0) {
        this.seccompListenerFd = fd;
        this.emit('seccomp-listener', fd);
      }
    }
  }

  #finish() {
    this.#done = true;
    this.#native.close();
  }

  #closeStreams() {
    for (const s of [this.stdin, this.stdout, this.stderr, this.terminal]) s?.destroy();
  }

  #emitCloseAfterStreams(r: ExitResult) {
    const readers = [this.stdout, this.stderr, this.terminal].filter((s): s is Readable => s !== null && !s.destroyed && !s.readableEnded);
    let pending = readers.length;
    const done = () => {
      if (--pending <= 0) this.emit('close', r.exitCode, r.signal);
    };
    if (pending === 0) {
      pending = 1;
      queueMicrotask(done);
      return;
    }
    for (const s of readers) s.once('close', done);
  }

  /**
   * Let a child spawned with `hold: true` go on to exec its program.
   * Resolves once it runs; rejects if the exec failed.
   */
  async release(): Promise<void> {
    if (!this.#held) throw new NsError({ code: NsCodes.NotHeld, message: 'the child was not spawned with hold: true' });
    await this.spawned;
    this.#held = false;
    call(() => this.#native.release());
    await call(() => this.#native.waitStage());
  }

  /**
   * Send a signal (default `SIGTERM`) through the child's pidfd, so a
   * reused pid is never hit. Resolves true once sent, false if the child
   * is already gone (as every ctr `kill`: async, same signal spellings);
   * an unknown signal rejects with `ENS_INVALID_OPTION` naming `signal`.
   * Note that a pid-namespace init (PID 1) ignores signals it has no
   * handler for, except `SIGKILL`.
   */
  async kill(signal: Signal = 'SIGTERM'): Promise<boolean> {
    const n = signalNumber(signal, 'signal');
    if (this.#done) return false;
    try {
      call(() => this.#native.kill(n));
      return true;
    } catch (err) {
      if (err instanceof NsError && err.errno === osConstants.errno.ESRCH) return false;
      throw err;
    }
  }

  /** `await using child = spawn(...)`: `SIGKILL` it if still running and wait for its end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill('SIGKILL');
    await this.exited.catch(() => undefined);
  }

  /**
   * Set the window size of the child's pty (see {@link Terminal.resize});
   * throws `ENS_CONSOLE` without one.
   */
  resize(cols: number, rows: number): void {
    if (!this.terminal) throw new NsError({ code: NsCodes.Console, message: 'the child has no terminal (spawn it with terminal: true)' });
    this.terminal.resize(cols, rows);
  }

  /** Same as awaiting {@link exited}. */
  wait(): Promise<ExitResult> {
    return this.exited;
  }
}

/**
 * Spawn `command` with `args` in new namespaces. Like
 * `child_process.spawn`, it returns at once; invalid options throw an
 * {@link NsError} synchronously, a failure in the child (a missing binary,
 * a refused mount) rejects {@link NsChildProcess.spawned} and
 * {@link NsChildProcess.exited} and emits `'error'`.
 *
 * ```ts
 * const child = spawn('sh', ['-c', 'echo $$'], { namespaces: ['pid', 'net'], mountProc: true });
 * child.stdout!.pipe(process.stdout);
 * const { exitCode } = await child.exited;
 * ```
 */
export function spawn(command: string, args: string[] = [], opts: SpawnOptions = {}): NsChildProcess {
  if (typeof command !== 'string' || command.length === 0) {
    throw new NsError({ code: NsCodes.InvalidOption, message: 'command must be a non-empty string', path: 'command' });
  }
  const nativeChild = call(() => native.spawn(toRequest(command, args, opts)));
  return new NsChildProcess(nativeChild, opts.hold ?? false, opts);
}

function collect(stream: Readable | null): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * Spawn, collect stdout and stderr, and wait for the exit.
 *
 * ```ts
 * const r = await run('hostname', [], { namespaces: ['uts'], hostname: 'box' });
 * r.stdout; // 'box\n'
 * ```
 */
export async function run(command: string, args: string[] = [], opts: SpawnOptions = {}): Promise<RunResult> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const [stdout, stderr, result] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exited]);
  return { pid: child.pid, stdout, stderr, ...result };
}

/** The namespace types this kernel supports (from `/proc/self/ns`). */
export function supportedNamespaces(): string[] {
  return call(() => native.supportedNamespaces());
}

/** Options of {@link enter}: those of {@link spawn} plus which namespaces. */
export interface EnterOptions extends Omit<SpawnOptions, 'namespaces' | 'join'> {
  /**
   * Namespaces of the target to join. Default: every one that differs from
   * this process's (like `nsenter --all`).
   */
  namespaces?: NamespaceName[];
}

/**
 * Run a command inside the namespaces of a running process (`nsenter`).
 * With the target's mount namespace the working directory defaults to `/`.
 *
 * ```ts
 * const r = enter(containerPid, 'ip', ['addr'], { namespaces: ['net'] });
 * await r.exited;
 * ```
 */
export function enter(target: number, command: string, args: string[] = [], opts: EnterOptions = {}): NsChildProcess {
  if (!Number.isInteger(target) || target <= 0) {
    throw new NsError({ code: NsCodes.InvalidOption, message: 'target must be a pid', path: 'target' });
  }
  const { namespaces, ...rest } = opts;
  const kinds = namespaces ?? (differingNamespaces(target, NAMESPACE_TYPES) as NamespaceName[]);
  const join: Partial<Record<NamespaceName, number>> = {};
  for (const k of kinds) join[k] = target;
  const mnt = kinds.some((k) => k === 'mnt' || k === 'mount');
  return spawn(command, args, { cwd: mnt ? '/' : undefined, ...rest, join });
}

/**
 * Keep the `kind` namespace of process `pid` alive after its processes
 * exit, by bind-mounting its ns file onto `path` (an empty file is made;
 * its directory must exist), as `ip netns add` does. Join it later with
 * `join: { net: path }`; undo with {@link releaseNamespace}. A mount
 * namespace can only be persisted on a path outside itself.
 */
export async function persistNamespace(pid: number, kind: NamespaceType | 'mount' | 'network', path: string): Promise<void> {
  await call(() => native.persistNamespace(pid, kind, path));
}

/** Undo {@link persistNamespace}: unmount `path` and remove it. */
export async function releaseNamespace(path: string): Promise<void> {
  await call(() => native.releaseNamespace(path));
}
