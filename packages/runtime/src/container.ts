import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Cgroup, type CgroupStats } from '@ctr/cgroup';
import { Terminal } from '@ctr/ns';
import type { Attachment } from '@ctr/netns';
import { decodeNativeError, exitResult, type NativeExitInfo } from '@ctr/common';
import { call, RuntimeError } from './errors';
import { native } from './native';
import { checkNetworkOption, setupNetwork, type NetworkSetup } from './network';
import type {
  ContainerEvent,
  ContainerState,
  CreateOptions,
  EventsOptions,
  ExecOptions,
  ExitResult,
  GcResult,
  KillOptions,
  Limits,
  OciProcess,
  RuncStats,
  SpecCreateOptions,
  StdioOption,
  StopOptions,
} from './options';
import type { Signal } from '@ctr/common';
import { configFor, overlayDirs, resourcesFor, rootfsOptions } from './spec';
import { signalName, signalNumber } from './signals';
import { ExecProcess } from './exec';
import { RuntimeCodes } from './codes';

/** The default state root of root, shared with `ctrun`. */
export const DEFAULT_ROOT = '/run/ctrun';

/** Milliseconds {@link Container.stop} waits after `SIGTERM` before `SIGKILL` (10 s, as `docker stop`). */
export const DEFAULT_STOP_TIMEOUT = 10_000;

/**
 * The state root used when none is given, as `ctrun` picks it: for a
 * non-root caller with `XDG_RUNTIME_DIR`, `$XDG_RUNTIME_DIR/ctrun` (runc:
 * `$XDG_RUNTIME_DIR/runc`), else {@link DEFAULT_ROOT}. Read at each call, so
 * a process that changes its environment or uid sees the new answer.
 */
export function defaultRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  const euid = process.geteuid?.() ?? 0;
  return euid !== 0 && xdg ? `${xdg.replace(/\/+$/, '')}/ctrun` : DEFAULT_ROOT;
}

/**
 * The native `ctrun` command line (the in-process API never execs it: a
 * container's init is a plain spawn of its program). In a checkout it is the
 * build in this package's bin/; installed from npm it sits beside the addon
 * in the platform package (`@ctr/runtime-linux-x64-gnu`), and the package's
 * `ctrun` bin execs it.
 */
export const CTRUN_PATH = ((): string => {
  const checkout = resolve(dirname(require.resolve('../native/index.js')), '../bin/ctrun');
  if (existsSync(checkout)) return checkout;
  const file = (native as unknown as { __ctrNativeFile?: string }).__ctrNativeFile;
  return file ? join(dirname(file), 'ctrun') : checkout;
})();

/** Where a friendly create writes its bundle (removed at delete, or by {@link gc} after a crash). */
export const TEMP_BUNDLE_PREFIX = 'ctr-run-';

function isTempBundle(path: string): boolean {
  return dirname(path) === resolve(tmpdir()) && basename(path).startsWith(TEMP_BUNDLE_PREFIX);
}

/** A misspelt option (`timeoutMs`) is refused, not silently ignored. */
function checkKeys(opts: object, known: string[], what: string): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: `${k}: unknown option of ${what} (it takes ${known.join(', ')})`, path: k });
  }
}

export function stdioFds(stdio: CreateOptions['stdio']): number[] {
  const list: StdioOption[] = Array.isArray(stdio) ? stdio : [stdio ?? 'pipe', stdio ?? 'pipe', stdio ?? 'pipe'];
  return list.map((s, i) => {
    if (s === 'pipe') return -1;
    if (s === 'ignore') return -2;
    if (s === 'inherit') return i;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0) return s;
    throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: `invalid stdio entry ${String(s)}`, path: `stdio[${i}]` });
  });
}

/** Pending exit waits of this JS environment, by token (see {@link waitExit}). */
const exitWaits = new Map<number, { resolve: (e: NativeExitInfo) => void; reject: (e: unknown) => void }>();
let exitToken = 0;
let exitWatcher: InstanceType<typeof native.ExitWatcher> | null = null;
/** Keeps Node's loop alive while a wait is pending (the watcher's callback is weak). */
let exitKeepAlive: NodeJS.Timeout | null = null;

function onExit(ev: { token: number; exitCode?: number | null; signal?: number | null; error?: string | null }): void {
  const w = exitWaits.get(ev.token);
  if (!w) return;
  exitWaits.delete(ev.token);
  if (exitWaits.size === 0 && exitKeepAlive) {
    clearInterval(exitKeepAlive);
    exitKeepAlive = null;
  }
  if (ev.error) w.reject(decodeNativeError(new Error(ev.error), RuntimeError));
  else w.resolve({ exitCode: ev.exitCode, signal: ev.signal });
}

/**
 * How the init of `id` ends, through one native watcher per process: a
 * promise per pending native wait would hold a libuv handle per container
 * alive, which libuv scans at every wakeup of the loop (the main thread's
 * work per launch grew with the number of containers alive).
 */
function waitExit(root: string, id: string): Promise<NativeExitInfo> {
  return new Promise((resolve, reject) => {
    exitWatcher ??= new native.ExitWatcher(onExit);
    const token = (exitToken = (exitToken + 1) >>> 0);
    exitWaits.set(token, { resolve, reject });
    exitKeepAlive ??= setInterval(() => undefined, 0x7fffffff);
    try {
      exitWatcher.watch(root, id, token);
    } catch (e) {
      onExit({ token, error: e instanceof Error ? e.message : String(e) });
    }
  });
}

/**
 * An OCI container in the state store, driven in-process (no runtime
 * binary is exec'd for the lifecycle). Containers made here show in
 * `ctrun list` and vice versa.
 *
 * Events: `'exit'` (exitCode, signal) once the init process ends, for a
 * container this process created and started; `'oom'` when the kernel's
 * OOM killer acts in the container's cgroup (listen before {@link start}
 * to be sure to see it).
 */
export class Container extends EventEmitter {
  /** Container id. */
  readonly id: string;
  /** State root. */
  readonly root: string;
  /** Host pid of the init process. */
  readonly pid: number;
  /** The container's stdin, when piped. */
  readonly stdin: Writable | null;
  /** The container's stdout, when piped. */
  readonly stdout: Readable | null;
  /** The container's stderr, when piped. */
  readonly stderr: Readable | null;
  /**
   * With `process.terminal` (the `terminal` option, or a bundle asking for
   * it): the master side of the container's pty, an `@ctr/ns` `Terminal`
   * (a Duplex: the container's output, and its input when written to;
   * `resize(cols, rows)`). It ends when every process on the pty exited.
   */
  readonly terminal: Terminal | null;
  #exited: Promise<ExitResult> | null = null;
  #oom: { cg: Cgroup; stop: AbortController } | null = null;
  #oomStarting: Promise<void> | null = null;
  #network: NetworkSetup | null = null;
  #tempBundle: string | null = null;
  #deleting: Promise<void> = Promise.resolve();

  private constructor(id: string, root: string, pid: number, fds: number[], terminal = -1) {
    super();
    this.id = id;
    this.root = root;
    this.pid = pid;
    const [i, o, e] = fds;
    this.stdin = i >= 0 ? new Socket({ fd: i, readable: false, writable: true }) : null;
    this.stdout = o >= 0 ? new Socket({ fd: o, readable: true, writable: false }) : null;
    this.stderr = e >= 0 ? new Socket({ fd: e, readable: true, writable: false }) : null;
    this.terminal = terminal >= 0 ? Terminal.fromFd(terminal) : null;
    this.on('newListener', (name: string | symbol) => {
      if (name === 'oom') void this.#watchOom().catch(() => undefined);
    });
  }

  #watchOom(): Promise<void> {
    this.#oomStarting ??= (async () => {
      // A rootless container without a delegated cgroup has none (and no
      // limits): there is no OOM of its own to watch.
      const cg = await this.cgroup().catch((e: unknown) => {
        if ((e as { code?: string }).code === RuntimeCodes.NoCgroup) return null;
        throw e;
      });
      if (!cg) return;
      const stop = new AbortController();
      this.#oom = { cg, stop };
      const events = cg.events({ signal: stop.signal });
      // The watcher exists once the first next() has been called, i.e. now.
      void (async () => {
        let fired = false;
        try {
          for await (const ev of events) {
            if (!fired && (ev.type === 'oom' || ev.type === 'oom_kill')) {
              fired = true;
              this.emit('oom');
            }
          }
        } catch {
          // the cgroup went away with the container
        }
      })();
    })();
    return this.#oomStarting;
  }

  #stopOom(): void {
    this.#oom?.stop.abort();
    this.#oom?.cg.close();
    this.#oom = null;
  }

  /**
   * Create a container from an OCI bundle: the init process is set up and
   * waits at the gate (state `created`) until {@link start}.
   */
  static async create(opts: CreateOptions): Promise<Container> {
    const root = opts.root ?? defaultRoot();
    if (opts.signal?.aborted) throw new RuntimeError({ code: RuntimeCodes.Aborted, message: 'aborted before create' });
    // Bad network options fail before anything exists.
    checkNetworkOption(opts.network);
    let bundle: string;
    let tempBundle: string | null = null;
    if ('bundle' in opts && opts.bundle !== undefined) {
      bundle = resolve(opts.bundle);
    } else {
      const spec = opts as SpecCreateOptions;
      // Checked before anything is made (bad options leave no temp bundle).
      const { overlay } = rootfsOptions(spec.rootfs);
      tempBundle = bundle = await mkdtemp(join(tmpdir(), `${TEMP_BUNDLE_PREFIX}${process.pid}-`));
      try {
        const config = configFor(spec, bundle);
        // The overlay's layers live in the bundle, whose path the state records at create: delete removes them with it.
        if (overlay) for (const dir of Object.values(overlayDirs(bundle))) await mkdir(dir, { recursive: true });
        await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
      } catch (e) {
        await rm(bundle, { recursive: true, force: true });
        throw e;
      }
    }
    let info;
    try {
      info = await call(() =>
        native.create({ root, id: opts.id, bundle, pidFile: opts.pidFile, noPivot: opts.noPivot, stdio: stdioFds(opts.stdio) }),
      );
    } catch (e) {
      if (tempBundle) await rm(tempBundle, { recursive: true, force: true });
      throw e;
    }
    const c = new Container(opts.id, root, info.pid, info.stdio, info.terminal);
    c.#tempBundle = tempBundle;
    try {
      // The init waits at the gate in its own network namespace: set the network up before start.
      if (opts.network !== undefined) c.#network = await setupNetwork({ root, id: opts.id, pid: c.pid }, opts.network);
      // An abort that came while the native create ran has no listener to see it yet.
      if (opts.signal?.aborted) throw new RuntimeError({ code: RuntimeCodes.Aborted, message: 'aborted during create' });
    } catch (e) {
      await c.delete({ force: true }).catch(() => undefined);
      throw e;
    }
    if (opts.signal) {
      const onAbort = () => {
        c.delete({ force: true }).catch(() => undefined);
      };
      opts.signal.addEventListener('abort', onAbort, { once: true });
      c.wait().finally(() => opts.signal?.removeEventListener('abort', onAbort)).catch(() => undefined);
    }
    return c;
  }

  /** The bridge attachment made for the `network` option (address, interfaces, published ports), or null. */
  get network(): Attachment | null {
    return this.#network?.lease ?? null;
  }

  /** A container of the store made by anyone (this process, another, `ctrun`). */
  static async load(id: string, root: string = defaultRoot()): Promise<Container> {
    const s = await new Container(id, root, 0, [-1, -1, -1]).state();
    return new Container(id, root, s.pid, [-1, -1, -1]);
  }

  /**
   * The states of every container in the store, those still `creating`
   * included (a creator that died leaves one; `delete({ force })` removes it).
   */
  static async list(root: string = defaultRoot()): Promise<ContainerState[]> {
    return JSON.parse(await call(() => native.list(root))) as ContainerState[];
  }

  /** Let the init exec the container's program (state `running`). */
  async start(): Promise<void> {
    if (this.listenerCount('oom') > 0) await this.#watchOom();
    await call(() => native.start(this.root, this.id));
    void this.wait().then((r) => this.emit('exit', r.exitCode, r.signal), () => undefined);
  }

  /** The OCI state, as `ctrun state` prints it. */
  async state(): Promise<ContainerState> {
    return JSON.parse(await call(() => native.state(this.root, this.id))) as ContainerState;
  }

  /** The container's cgroup, as an `@ctr/cgroup` `Cgroup` (close it when done). */
  async cgroup(): Promise<Cgroup> {
    const path = await call(() => native.cgroupPath(this.root, this.id));
    if (!path) throw new RuntimeError({ code: RuntimeCodes.NoCgroup, message: `container ${this.id} has no cgroup` });
    // A relative cgroupsPath is under the runtime's own cgroup (OCI; as runc).
    return Cgroup.open(path, { relativeTo: 'own-cgroup' });
  }

  /** Resource usage of the container's cgroup (`@ctr/cgroup` stats). */
  async stats(): Promise<CgroupStats> {
    const cg = await this.cgroup();
    try {
      return await cg.stats();
    } finally {
      cg.close();
    }
  }

  /**
   * Run another process in the container (created or running), as `ctrun
   * exec`: it joins every namespace and the cgroup of the init and gets
   * the container's seccomp filter. Give argv to change the container's
   * own process (with `opts`), or a whole OCI `process` object.
   *
   * @example
   * const p = await c.exec(['sh', '-c', 'hostname'], { stdio: ['ignore', 'pipe', 'inherit'] });
   * const { exitCode } = await p.wait();
   */
  async exec(process: string[] | OciProcess, opts: ExecOptions = {}): Promise<ExecProcess> {
    // With a terminal, stdio all go through the pty.
    const terminal = opts.terminal ?? (!Array.isArray(process) && process.terminal === true);
    const stdio = terminal ? [-2, -2, -2] : stdioFds(opts.stdio);
    const req = Array.isArray(process)
      ? {
          root: this.root,
          id: this.id,
          args: process,
          env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
          cwd: opts.cwd,
          uid: opts.user?.uid,
          gid: opts.user?.gid,
          additionalGids: opts.user?.additionalGids,
          capabilities: opts.capabilities,
          noNewPrivileges: opts.noNewPrivileges,
          stdio,
          pidFile: opts.pidFile,
          terminal: opts.terminal,
        }
      : { root: this.root, id: this.id, process: JSON.stringify(process), stdio, pidFile: opts.pidFile, terminal: opts.terminal };
    const info = await call(() => native.exec(req));
    return new ExecProcess(info.pid, info.stdio, info.terminal);
  }

  /**
   * Change the container's limits (memory, pids, cpu) in its cgroup, as `ctrun update`; only what is given changes.
   * With `checkBeforeUpdate`, a memory limit lower than the current usage is refused (code
   * `ERUNTIME_MEMORY_BELOW_USAGE`) instead of written (OCI `memory.checkBeforeUpdate`: on cgroup v2 the kernel
   * would OOM-kill the container instead).
   */
  async update(limits: Limits, opts: { checkBeforeUpdate?: boolean } = {}): Promise<void> {
    const r = resourcesFor(limits) ?? {};
    if (opts.checkBeforeUpdate && r.memory) (r.memory as Record<string, unknown>).checkBeforeUpdate = true;
    await this.updateResources(r);
  }

  /** Apply an OCI `linux.resources` object to the container's cgroup (`ctrun update --resources`; device rules are skipped). */
  async updateResources(resources: Record<string, unknown>): Promise<void> {
    await call(() => native.update(this.root, this.id, JSON.stringify(resources)));
  }

  /** Statistics in runc's `events --stats` shape. */
  async runcStats(): Promise<RuncStats> {
    return JSON.parse(await call(() => native.runcStats(this.root, this.id))) as RuncStats;
  }

  /**
   * The events `ctrun events` prints: a `stats` event every `interval`
   * and an `oom` event each time the kernel reports an OOM in the
   * container's cgroup. Ends when the container's init exits or `signal`
   * aborts.
   */
  async *events(opts: EventsOptions = {}): AsyncGenerator<ContainerEvent> {
    const interval = opts.interval ?? 5000;
    if (!(interval > 0)) throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: 'events: interval must be greater than 0', path: 'interval' });
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const queue: ContainerEvent[] = [];
    let wake: (() => void) | null = null;
    const push = (e: ContainerEvent) => {
      queue.push(e);
      wake?.();
    };
    const cg = await this.cgroup();
    const exited = this.wait().then(
      () => stop.abort(),
      () => stop.abort(),
    );
    void (async () => {
      try {
        for await (const ev of cg.events({ signal: stop.signal })) if (ev.type === 'oom') push({ type: 'oom', id: this.id });
      } catch {
        // the cgroup went away with the container
      }
    })();
    const timer = setInterval(() => {
      this.runcStats().then(
        (data) => push({ type: 'stats', id: this.id, data }),
        () => stop.abort(),
      );
    }, interval);
    stop.signal.addEventListener('abort', () => wake?.(), { once: true });
    try {
      while (!stop.signal.aborted || queue.length > 0) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      clearInterval(timer);
      stop.abort();
      opts.signal?.removeEventListener('abort', onAbort);
      cg.close();
      void exited;
    }
  }

  /**
   * Send a signal (default `SIGTERM`) to the init, or with `all` to every
   * process of the container. Resolves true once sent, false when the
   * container had already stopped (as every ctr `kill`: async, same
   * signal spellings); an unknown signal rejects with `ERUNTIME_SIGNAL`.
   * Note that an init (PID 1 of its namespace) ignores signals it has no
   * handler for, except `SIGKILL`: {@link stop} escalates for you.
   */
  async kill(signal: Signal = 'SIGTERM', opts: KillOptions = {}): Promise<boolean> {
    const n = signalNumber(signal);
    checkKeys(opts, ['all'], 'kill');
    if (opts.all !== undefined && typeof opts.all !== 'boolean') throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: 'all: expected a boolean', path: 'all' });
    try {
      await call(() => native.kill(this.root, this.id, n, opts.all ?? false));
      return true;
    } catch (e) {
      if (e instanceof RuntimeError && e.code === RuntimeCodes.NotRunning) return false;
      throw e;
    }
  }

  /**
   * Stop the container as `docker stop` does: send `signal` (default
   * `SIGTERM`) to the init, wait up to `timeout` ms (default
   * {@link DEFAULT_STOP_TIMEOUT}, 10 s) for it to end, then `SIGKILL`
   * every process of the container. Resolves with how the init ended
   * (at once for a container already stopped). The container stays in the
   * store (`stopped`) until {@link delete}.
   */
  async stop(opts: StopOptions = {}): Promise<ExitResult> {
    checkKeys(opts, ['timeout', 'signal'], 'stop');
    const timeout = opts.timeout ?? DEFAULT_STOP_TIMEOUT;
    if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
      throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: `timeout: ${String(timeout)} is not a number of milliseconds >= 0`, path: 'timeout' });
    }
    const signal = signalNumber(opts.signal ?? 'SIGTERM');
    const exited = this.wait();
    if (!(await this.kill(signal))) return exited;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeout)));
    try {
      if ((await Promise.race([exited, late])) !== 'late') return exited;
    } finally {
      clearTimeout(timer);
    }
    await this.kill('SIGKILL', { all: true });
    return exited;
  }

  /** `await using c = await Container.create(...)`: {@link delete} with `force` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.delete({ force: true });
  }

  /** Resolves when the init process ends (exit status known for containers this process created). */
  wait(): Promise<ExitResult> {
    this.#exited ??= waitExit(this.root, this.id).then(exitResult);
    return this.#exited;
  }

  /**
   * Remove every trace (network attachment and a bundle written for a friendly create included).
   * A container that is not stopped (created, running or paused) needs `force` (it is killed first);
   * without it the call rejects with `ERUNTIME_STATE_INVALID` and changes nothing (runtime.md).
   */
  delete(opts: { force?: boolean } = {}): Promise<void> {
    // Concurrent deletes (an AbortSignal's and the caller's) run one after the other,
    // so whichever resolves last, every trace is gone by then.
    const next = this.#deleting.then(() => this.#delete(opts));
    this.#deleting = next.catch(() => undefined);
    return next;
  }

  async #delete(opts: { force?: boolean }): Promise<void> {
    // Let a pending OOM notification arrive before the cgroup goes.
    if (this.#oom) await new Promise((r) => setTimeout(r, 20));
    this.#stopOom();
    let deleted = false;
    try {
      await call(() => native.deleteContainer(this.root, this.id, opts.force ?? false));
      deleted = true;
    } finally {
      // Whether the delete worked or not: once the container is gone, so are our own additions
      // (the native delete released the network lease named in the record). A delete that
      // resolved removed the record; only a failed one needs the store asked (one native
      // round trip fewer per container on the hot path).
      if (deleted || !(await this.#exists())) {
        const temp = this.#tempBundle;
        this.#network = null;
        this.#tempBundle = null;
        // stdout/stderr end by themselves (the container is gone); stdin is ours to close,
        // and so is a terminal nobody reads (one being read ends by itself).
        this.stdin?.destroy();
        if (this.terminal && !this.terminal.readableFlowing) this.terminal.destroy();
        if (temp) await rm(temp, { recursive: true, force: true });
      }
    }
  }

  async #exists(): Promise<boolean> {
    try {
      await this.state();
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Remove every container record whose owner is dead: containers whose
 * creation never finished (the creating process was killed) and those made
 * through this API (or a foreground `ctrun run`) whose process is gone.
 * Containers made detached (`ctrun create`, `ctrun run -d`) are left alone.
 * Everything of a removed record goes: its processes (killed through the
 * cgroup), cgroup, network devices and state directory. Same as `ctrun gc`.
 */
export async function gc(root: string = defaultRoot()): Promise<GcResult> {
  // The bundles a friendly create wrote (with an overlay's upper and work
  // directories) are recorded in the state: a dead owner never deleted them.
  const bundles = new Map((await Container.list(root).catch(() => [])).map((s) => [s.id, s.bundle]));
  const r = JSON.parse(await call(() => native.gc(root))) as { removed: string[]; failed: Array<[string, { code: string; message: string }]>; swept: number };
  for (const id of r.removed) {
    const b = bundles.get(id);
    if (b && isTempBundle(b)) await rm(b, { recursive: true, force: true });
  }
  return { removed: r.removed, failed: r.failed.map(([id, e]) => ({ id, code: e.code, message: e.message })), swept: r.swept };
}
