import { EventEmitter } from 'node:events';
import type { Signal } from '@ctr/common';
import { call } from './errors';
import { native } from './native';
import type { NativeCgroup, NativeWatcher } from '../native/index.js';
import { nativeOptions, pathString, pidNumber, signalNumber, statsFromNative } from './map';
import type { CgroupEvent, CgroupEventType, CgroupOptions, CgroupStats, DeleteOptions, Resources } from './options';

const EVENT_TYPES: ReadonlyArray<string> = ['oom', 'oom_kill', 'populated', 'empty', 'frozen', 'thawed', 'high', 'max', 'event'];

/**
 * A cgroup on every hierarchy the host's back end uses. Create one with
 * {@link Cgroup.create} or {@link Cgroup.open}.
 *
 * It is an `EventEmitter`: listening for `'oom'`, `'oom_kill'`,
 * `'populated'`, `'empty'`, `'frozen'`, `'thawed'`, `'high'`, `'max'` or
 * `'event'` (all of them) starts a watcher off the main thread, which
 * stops when the last such listener is removed, on {@link Cgroup.close}
 * and on {@link Cgroup.delete}.
 */
export class Cgroup extends EventEmitter {
  #native: NativeCgroup;
  #watcher: NativeWatcher | null = null;

  private constructor(n: NativeCgroup) {
    super();
    this.#native = n;
    this.on('newListener', (name: string | symbol) => {
      if (typeof name === 'string' && EVENT_TYPES.includes(name)) queueMicrotask(() => this.#startWatching());
    });
    this.on('removeListener', () => {
      if (!EVENT_TYPES.some((t) => this.listenerCount(t) > 0)) this.#stopWatching();
    });
  }

  /**
   * Create a cgroup and apply `resources`. `path` starts at the hierarchy
   * root (`'/jobs/1'`); a relative path (`'jobs/1'`) fails with
   * `ECGROUP_RELATIVE_PATH` unless `options.relativeTo` is `'own-cgroup'`
   * (then it is joined to the caller's own cgroup). Fails with
   * `ECGROUP_EXISTS` if it exists; a failed create leaves no directory behind.
   */
  static async create(path: string, resources: Resources = {}, options: CgroupOptions = {}): Promise<Cgroup> {
    return new Cgroup(await call(() => native.create(pathString(path), resources, nativeOptions(options))));
  }

  /**
   * Open an existing cgroup (`ECGROUP_NOT_FOUND` if it is in no hierarchy).
   * Paths as in {@link Cgroup.create}.
   */
  static async open(path: string, options: CgroupOptions = {}): Promise<Cgroup> {
    return new Cgroup(await call(() => native.open(pathString(path), nativeOptions(options))));
  }

  /** The path given at create/open. */
  get path(): string {
    return this.#native.path;
  }

  /** 1 (v1 hierarchies, plus the cgroup2 one on hybrid hosts) or 2. */
  get version(): 1 | 2 {
    return this.#native.version as 1 | 2;
  }

  /** The systemd unit (`backend: 'systemd'`), e.g. `ctr-abc.scope`; else undefined. */
  get systemdUnit(): string | undefined {
    return this.#native.systemdUnit ?? undefined;
  }

  /** The cgroup's directories, one per hierarchy. */
  get dirs(): string[] {
    return this.#native.dirs;
  }

  /** Move a process (all its threads) into the cgroup. */
  async addProcess(pid: number): Promise<void> {
    return call(() => this.#native.add(pidNumber(pid), false));
  }

  /** Move one thread into the cgroup. */
  async addThread(tid: number): Promise<void> {
    return call(() => this.#native.add(pidNumber(tid, 'tid'), true));
  }

  /** Pids of the processes directly in the cgroup. */
  async pids(): Promise<number[]> {
    return call(() => this.#native.pids());
  }

  /** Apply (more) limits. */
  async update(resources: Resources): Promise<void> {
    return call(() => this.#native.update(resources));
  }

  /** Freeze every process; resolves once the kernel reports it frozen. */
  async freeze(): Promise<void> {
    return call(() => this.#native.setFrozen(true));
  }

  /** Thaw. */
  async thaw(): Promise<void> {
    return call(() => this.#native.setFrozen(false));
  }

  /**
   * Send `signal` (default `SIGKILL`) to every process of the cgroup and
   * its children. With SIGKILL it resolves once the group is empty
   * (`cgroup.kill` where there is one, else freeze, kill, thaw, repeat).
   */
  async killAll(signal: Signal = 'SIGKILL'): Promise<void> {
    return call(() => this.#native.killAll(signalNumber(signal)));
  }

  /**
   * Remove the cgroup and its children from every hierarchy, retrying
   * while tasks drain. With `kill`, kill its processes first.
   */
  async delete(options: DeleteOptions = {}): Promise<void> {
    this.close();
    await call(() => this.#native.delete(options.kill ?? false));
  }

  /** Statistics in one shape on v1 and v2 (read off the main thread). */
  async stats(): Promise<CgroupStats> {
    return statsFromNative(JSON.parse(await call(() => this.#native.stats())));
  }

  /** {@link Cgroup.stats}, synchronously (a handful of small cgroupfs reads). */
  statsSync(): CgroupStats {
    return statsFromNative(JSON.parse(call(() => this.#native.statsJson())));
  }

  /** Raw escape hatch: read any file of the cgroup (`'memory.stat'`). */
  async readFile(file: string): Promise<string> {
    return call(() => this.#native.readFile(file));
  }

  /** Raw escape hatch: write any file of the cgroup. */
  async writeFile(file: string, value: string | number): Promise<void> {
    return call(() => this.#native.writeFile(file, String(value)));
  }

  /**
   * Events as an async iterator (its own watcher; ends on `break`, on
   * `signal` abort and when the cgroup is deleted through this object).
   */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<CgroupEvent, void, undefined> {
    const w = call(() => this.#native.watch());
    const stop = (): void => w.close();
    options.signal?.addEventListener('abort', stop, { once: true });
    this.once('close', stop);
    try {
      for (;;) {
        const batch = await call(() => w.next());
        if (batch === null) return;
        for (const e of batch) yield e as CgroupEvent;
      }
    } finally {
      w.close();
      this.off('close', stop);
      options.signal?.removeEventListener('abort', stop);
    }
  }

  /** Stop every watcher of this object (listeners stay registered but go quiet). */
  close(): void {
    this.#stopWatching();
    this.emit('close');
  }

  #startWatching(): void {
    if (this.#watcher || !EVENT_TYPES.some((t) => this.listenerCount(t) > 0)) return;
    let w: NativeWatcher;
    try {
      w = call(() => this.#native.watch());
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err);
      return;
    }
    this.#watcher = w;
    void (async () => {
      try {
        for (;;) {
          const batch = await call(() => w.next());
          if (batch === null) break;
          for (const e of batch) {
            this.emit(e.type as CgroupEventType, e);
            this.emit('event', e);
          }
        }
      } catch (err) {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      } finally {
        if (this.#watcher === w) this.#watcher = null;
      }
    })();
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }
}
