import { call, SeccompError } from './errors';
import { native, type NativeListener, type NativeRequest, type NativeAgent } from './native';
import { SeccompCodes } from './codes';

/**
 * A system call a filtered process is blocked in, waiting for this
 * process to answer. Answer exactly once with {@link respondErrno},
 * {@link respondValue} or {@link respondContinue}.
 */
export class NotificationRequest {
  /** Kernel cookie of the request. */
  readonly id: bigint;
  /** Pid of the caller (in the listener's pid namespace). */
  readonly pid: number;
  /** System call name, where libseccomp knows it. */
  readonly syscall: string | null;
  /** System call number as the filter saw it. */
  readonly nr: number;
  /** `x86_64`, `x86` or `x32` (null for other audit arches). */
  readonly arch: string | null;
  /** The `AUDIT_ARCH_*` value. */
  readonly auditArch: number;
  /** The six arguments. */
  readonly args: bigint[];
  readonly #listener: NativeListener;
  #answered = false;

  private constructor(listener: NativeListener, r: NativeRequest) {
    this.#listener = listener;
    this.id = BigInt(r.id as unknown as bigint);
    this.pid = r.pid;
    this.syscall = r.name ?? null;
    this.nr = r.nr;
    this.arch = r.archName ?? null;
    this.auditArch = r.arch;
    this.args = r.args.map((a) => BigInt(a as unknown as bigint));
  }

  #send(kind: 'errno' | 'value' | 'continue', value?: bigint): boolean {
    if (this.#answered) throw new SeccompError({ code: SeccompCodes.Notify, message: 'the request was already answered' });
    this.#answered = true;
    return call(() => this.#listener.respond(this.id, kind, value));
  }

  /** Fail the call with `errno` (1..4095). Returns false if the caller is gone. */
  respondErrno(errno: number): boolean {
    return this.#send('errno', BigInt(errno));
  }

  /** Make the call return `value` without running it. Returns false if the caller is gone. */
  respondValue(value: number | bigint): boolean {
    return this.#send('value', BigInt(value));
  }

  /**
   * Let the kernel run the call as if unfiltered. Not a security boundary:
   * the caller may change its memory after the check.
   */
  respondContinue(): boolean {
    return this.#send('continue');
  }

  /** Whether the request is still pending (the kernel's ID_VALID check). */
  isValid(): boolean {
    return call(() => this.#listener.idValid(this.id));
  }

  /**
   * Read a NUL-terminated string the caller passed as argument `argIndex`
   * (from `/proc/<pid>/mem`), then check the request is still valid so the
   * pid was not reused meanwhile.
   */
  readString(argIndex: number, max = 4096): string {
    return call(() => this.#listener.readString(this.id, this.pid, this.args[argIndex], max));
  }
}

// The constructor is private to the API; the listener builds requests.
const makeRequest = (l: NativeListener, r: NativeRequest): NotificationRequest =>
  new (NotificationRequest as unknown as new (l: NativeListener, r: NativeRequest) => NotificationRequest)(l, r);

/**
 * The requests arriving on a seccomp user-notification listener fd, as an
 * async iterator. Receiving happens on the runtime's epoll (never blocking
 * the event loop). Iteration ends when every process using the filter has
 * exited, or on {@link close}. Owns the fd.
 */
export class NotificationListener implements AsyncIterable<NotificationRequest> {
  readonly #native: Promise<NativeListener>;
  #closed = false;

  /** Take ownership of listener `fd` (or a promise of one, as from a spawn). */
  constructor(fd: number | Promise<number>) {
    this.#native = Promise.resolve(fd).then((n) => call(() => new native.NativeListener(n)));
    this.#native.catch(() => undefined);
  }

  /** The next request, or null when the listener has no more processes. */
  async next(): Promise<NotificationRequest | null> {
    if (this.#closed) return null;
    const l = await this.#native;
    const r = await call(() => l.recv());
    return r ? makeRequest(l, r) : null;
  }

  /**
   * Iterate requests until no process uses the filter any more. The fd is
   * closed when the iteration ends (also on `break`).
   */
  async *[Symbol.asyncIterator](): AsyncIterator<NotificationRequest> {
    try {
      for (;;) {
        const r = await this.next();
        if (!r) return;
        yield r;
      }
    } finally {
      await this.close();
    }
  }

  /** Close the fd: pending and later notified calls fail with ENOSYS. */
  async close(): Promise<void> {
    this.#closed = true;
    (await this.#native.catch(() => null))?.close();
  }
}

/**
 * The OCI `listenerPath` protocol, runtime side: connect to the agent's
 * unix socket at `path` and send `state` (the container process state:
 * `{ ociVersion, fds: ['seccompFd'], pid, metadata, state }`) with the
 * listener `fd` attached (SCM_RIGHTS). The caller keeps its fd.
 */
export function sendListener(path: string, fd: number, state: object): Promise<void> {
  return call(() => native.sendListener(path, fd, JSON.stringify(state))).then(() => undefined);
}

/** What a {@link SeccompAgent} received from a runtime. */
export interface AgentConnection {
  /** The container process state the runtime sent. */
  state: Record<string, unknown>;
  /** The listener fd, as requests. */
  listener: NotificationListener;
}

/**
 * The agent side of `listenerPath`: a unix socket that receives listener
 * fds and container states from runtimes.
 */
export class SeccompAgent {
  readonly #native: NativeAgent;
  /** The socket path. */
  readonly path: string;

  private constructor(n: NativeAgent, path: string) {
    this.#native = n;
    this.path = path;
  }

  /** Bind a unix socket at `path` (removed again by {@link close}). */
  static listen(path: string): SeccompAgent {
    return new SeccompAgent(call(() => native.NativeAgent.bind(path)), path);
  }

  /** Accept one runtime and read its state and listener fd. */
  async accept(): Promise<AgentConnection> {
    const r = await call(() => this.#native.accept());
    return { state: JSON.parse(r.state) as Record<string, unknown>, listener: new NotificationListener(r.fd) };
  }

  /** Close the socket and remove its path. */
  close(): void {
    this.#native.close();
  }
}
