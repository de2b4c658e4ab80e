/** The kinds of Linux namespace. */
export type NamespaceType = 'mnt' | 'pid' | 'net' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

/** Every namespace type, in the order they are created (user first). */
export const NAMESPACE_TYPES: readonly NamespaceType[] = ['user', 'mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup', 'time'];

/**
 * Where a standard stream of the child goes: a new pipe (exposed as a Node
 * stream), the parent's own stream, `/dev/null`, or a file descriptor.
 */
export type StdioOption = 'pipe' | 'inherit' | 'ignore' | number;

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /**
   * Namespaces to create for the child. `mount` and `network` are accepted
   * as the OCI spellings of `mnt` and `net`.
   */
  namespaces?: Array<NamespaceType | 'mount' | 'network'>;
  /**
   * Mount a fresh `/proc` in the child (like `unshare --mount-proc`); this
   * implies a new mount namespace, whose mounts are made private first.
   */
  mountProc?: boolean;
  /** Host name inside the child; needs the `uts` namespace. */
  hostname?: string;
  /** Working directory of the child. */
  cwd?: string;
  /** Environment; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** `argv[0]`; defaults to the command. */
  argv0?: string;
  /** One option for all three streams, or one each. Default `'pipe'`. */
  stdio?: StdioOption | [StdioOption, StdioOption, StdioOption];
  /**
   * Set everything up but stop before exec until {@link NsChildProcess.release}
   * (the OCI create/start split). Meanwhile the parent can act on the
   * child's pid (move it to a cgroup, configure its network).
   */
  hold?: boolean;
  /** Signal the child gets if the Node process dies. */
  parentDeathSignal?: NodeJS.Signals | number;
  /** Start the child in a new session (`setsid`). */
  detached?: boolean;
  /** Aborting this signal kills the child with `killSignal`. */
  signal?: AbortSignal;
  /** Signal used by `signal` aborts. Default `'SIGKILL'`. */
  killSignal?: NodeJS.Signals | number;
  /**
   * Set `no_new_privs` in the child: exec can never grant privileges
   * (setuid bits, file capabilities). Needed for {@link seccomp} when the
   * child does not keep `CAP_SYS_ADMIN`.
   */
  noNewPrivileges?: boolean;
  /**
   * A seccomp BPF program to install in the child: the bytes of an array
   * of `struct sock_filter` (8 bytes each, native byte order), as
   * `@ctr/seccomp` compiles it. It is the last setup step: after it only
   * the status report, the gate read (with `hold` or
   * {@link seccompListener}) and `execve` run, so the filter must allow
   * `write`, `read` and `execve`.
   */
  seccomp?: Uint8Array;
  /**
   * `SECCOMP_FILTER_FLAG_*` flags for `seccomp(2)` (`LOG` 2, `SPEC_ALLOW`
   * 4, `TSYNC` 1, `WAIT_KILLABLE_RECV` 32, ...). Use
   * {@link seccompListener} instead of `NEW_LISTENER`.
   */
  seccompFlags?: number;
  /**
   * Install the filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER`: the parent
   * copies the listener fd out of the child (`pidfd_getfd`) before the
   * child goes on, and exposes it as
   * {@link NsChildProcess.seccompListenerFd} and the `'seccomp-listener'`
   * event. The caller owns (and must close) that fd.
   */
  seccompListener?: boolean;
}

/** How a child ended: an exit code, or the signal that killed it. */
export interface ExitResult {
  /** Exit code, or `null` if killed by a signal. */
  exitCode: number | null;
  /** The signal's name, or `null` if it exited. */
  signal: NodeJS.Signals | null;
}

/** What {@link run} returns. */
export interface RunResult extends ExitResult {
  /** Host pid the child had. */
  pid: number;
  /** Everything the child wrote to stdout. */
  stdout: string;
  /** Everything the child wrote to stderr. */
  stderr: string;
}
