import type { Signal } from '@ctr/common';
import { native } from './native';

/** The kinds of Linux namespace. */
export type NamespaceType = 'mnt' | 'pid' | 'net' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

/** Every namespace type, in the order they are created (user first). */
export const NAMESPACE_TYPES: readonly NamespaceType[] = ['user', 'mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup', 'time'];

/**
 * Where a standard stream of the child goes: a new pipe (exposed as a Node
 * stream), the parent's own stream, `/dev/null`, or a file descriptor.
 */
export type StdioOption = 'pipe' | 'inherit' | 'ignore' | number;

/** One line of a uid or gid map (OCI `linux.uidMappings` shape). */
export interface IdMapEntry {
  /** First id inside the namespace. */
  containerID: number;
  /** First id on the host. */
  hostID: number;
  /** How many ids. */
  size: number;
}

/** One mount of a rootfs plan (OCI `mounts[]` shape). */
export interface Mount {
  /** Absolute path inside the rootfs; symlinks in it never lead out. */
  destination: string;
  /** Host path for binds; a device or name otherwise (default: the type). */
  source?: string;
  /** File system type: `proc`, `sysfs`, `tmpfs`, `devpts`, `mqueue`,
   * `cgroup`, `cgroup2`, `overlay`, `bind`... */
  type?: string;
  /** `mount(8)` options: `ro`, `nosuid`, `nodev`, `noexec`, `bind`,
   * `rbind`, `rprivate`/`rslave`/`rshared`..., the recursive attributes
   * `rro`, `rnosuid`, `rnodev`, `rnoexec`, `rnoatime`... (every submount too,
   * `mount_setattr(2)`), `tmpcopyup` (a tmpfs filled with a copy of what it
   * covers), `idmap`/`ridmap` (an id-mapped bind, with the maps below); the
   * rest is file-system data (`size=1m`, `lowerdir=...`). */
  options?: string[];
  /** uid map of an `idmap`/`ridmap` bind: a file owned by `containerID` on
   * disk shows as `hostID` through the mount. Needs `gidMappings` too. */
  uidMappings?: IdMapEntry[];
  /** gid map of an `idmap`/`ridmap` bind. */
  gidMappings?: IdMapEntry[];
}

/** The root filesystem of the child, set up in its own mount namespace. */
export interface RootfsOptions {
  /** Host directory to become `/`. */
  path: string;
  /** Propagation applied to every mount first: `private` (default),
   * `slave`, `shared` or `unbindable` (always recursive). */
  propagation?: 'private' | 'slave' | 'shared' | 'unbindable' | 'rprivate' | 'rslave' | 'rshared' | 'runbindable';
  /** Mounts, in order, before `pivot_root`. */
  mounts?: Mount[];
  /** Remount `/` read-only at the end. */
  readonly?: boolean;
  /** Paths made unreadable: `/dev/null` over files, an empty read-only
   * tmpfs over directories (paths inside the new root). */
  maskedPaths?: string[];
  /** Paths made read-only (inside the new root). */
  readonlyPaths?: string[];
  /** Set up `/dev` (tmpfs, null/zero/full/random/urandom/tty, fd/stdin/
   * stdout/stderr/ptmx links, `pts`, `shm`). Default true. In a user
   * namespace the nodes are bind-mounted from the host. */
  dev?: boolean;
  /** Use `MS_MOVE` + `chroot` instead of `pivot_root` (initramfs roots;
   * also the automatic fallback when `pivot_root` says `EINVAL`). */
  noPivot?: boolean;
}

/** A resource limit (OCI `process.rlimits[]` shape). */
export interface RlimitOption {
  /** `RLIMIT_NOFILE`, `RLIMIT_NPROC`, ... (or `nofile`). */
  type: string;
  /** Soft limit; `Infinity` for unlimited. */
  soft: number;
  /** Hard limit; `Infinity` for unlimited. */
  hard: number;
}

/** Capability sets by name (`CAP_NET_ADMIN` or `net_admin`). */
export interface CapabilitiesOption {
  /** Bounding set; capabilities not listed are dropped. */
  bounding?: string[];
  /** Effective set. */
  effective?: string[];
  /** Permitted set. */
  permitted?: string[];
  /** Inheritable set. */
  inheritable?: string[];
  /** Ambient set (must be permitted and inheritable). */
  ambient?: string[];
}

/** Namespace types, with the OCI spellings. */
export type NamespaceName = NamespaceType | 'mount' | 'network';

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /**
   * Namespaces to create for the child. `mount` and `network` are accepted
   * as the OCI spellings of `mnt` and `net`.
   */
  namespaces?: NamespaceName[];
  /**
   * Namespaces to join instead, each by the path of a namespace file
   * (`/proc/PID/ns/net`, `/run/netns/NAME`, a persisted file) or by a pid
   * (its `/proc/PID/ns/KIND`). Any mix with new ones works, e.g. join a net
   * namespace and create a pid one. Order is runc's: everything but the
   * user namespace, the user namespace, then what needed it.
   */
  join?: Partial<Record<NamespaceName, string | number>>;
  /** uid map of a new user namespace (written by the parent: directly as
   * root, through `newuidmap` otherwise). */
  uidMap?: IdMapEntry[];
  /** gid map of a new user namespace (`newgidmap` when not root). */
  gidMap?: IdMapEntry[];
  /** Write `allow`/`deny` to the namespace's `setgroups` file before the
   * gid map (default: leave it). */
  setgroups?: 'allow' | 'deny';
  /** Use `newuidmap`/`newgidmap` even as root. */
  idMapHelpers?: boolean;
  /** Offsets, in seconds (fractions allowed, negative too), of the clocks of
   * a new time namespace (implied). */
  timeOffsets?: {
    /** `CLOCK_MONOTONIC` offset in seconds. */
    monotonic?: number;
    /** `CLOCK_BOOTTIME` offset in seconds (what `/proc/uptime` shows). */
    boottime?: number;
  };
  /** NIS domain name; needs the `uts` namespace. */
  domainname?: string;
  /** User id to run as. */
  uid?: number;
  /** Group id to run as. */
  gid?: number;
  /** Supplementary groups (set only when given). */
  groups?: number[];
  /** File mode creation mask (default: inherited, 022 with a rootfs). */
  umask?: number;
  /** Resource limits. */
  rlimits?: RlimitOption[];
  /** Capability sets; omitted: unchanged (uid changes drop them as usual). */
  capabilities?: CapabilitiesOption;
  /** `/proc/self/oom_score_adj` (-1000..1000). */
  oomScoreAdj?: number;
  /**
   * Cgroup directories the child starts in, before it runs anything: a
   * cgroup2 directory through `CLONE_INTO_CGROUP`, v1 ones by the child
   * itself as its first step (it writes "0" to each `tasks` file the parent
   * opened; see docs/ns.md "Cgroups").
   */
  cgroup?: string | string[];
  /** A root filesystem: a path, or a full plan. Implies a mount namespace. */
  rootfs?: string | RootfsOptions;
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
  /**
   * File descriptors of this process that the child gets as fds 3, 4, ...
   * (like runc's `--preserve-fds` or systemd's `LISTEN_FDS`). Every other fd
   * above 2 is closed in the child.
   */
  extraFds?: number[];
  /** One option for all three streams, or one each. Default `'pipe'`.
   * Ignored with {@link terminal}. */
  stdio?: StdioOption | [StdioOption, StdioOption, StdioOption];
  /**
   * Give the child a pseudo-terminal (like `docker run -t`): `true`, or its
   * initial size. The pty is made after the child's mounts (with a rootfs:
   * in the container's own `/dev/pts`, and bound onto `/dev/console`); it
   * becomes the child's stdin/stdout/stderr and controlling terminal (new
   * session). The master is {@link NsChildProcess.terminal}, or is sent
   * over {@link consoleSocket}.
   */
  terminal?: boolean | { cols: number; rows: number };
  /**
   * With {@link terminal}: a connected unix socket (file descriptor) to
   * send the pty master over instead (`SCM_RIGHTS`, the pty name
   * `/dev/pts/N` as payload), as runc's `--console-socket` does; the child
   * then has no {@link NsChildProcess.terminal}. The caller keeps the fd.
   */
  consoleSocket?: number;
  /**
   * Set everything up but stop before exec until {@link NsChildProcess.release}
   * (the OCI create/start split). Meanwhile the parent can act on the
   * child's pid (move it to a cgroup, configure its network).
   */
  hold?: boolean;
  /** Signal the child gets if the Node process dies. */
  parentDeathSignal?: Signal;
  /** Start the child in a new session (`setsid`). */
  detached?: boolean;
  /** Aborting this signal kills the child with `killSignal`. */
  signal?: AbortSignal;
  /** Signal used by `signal` aborts. Default `'SIGKILL'`. */
  killSignal?: Signal;
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
  /**
   * Kernel parameters written under `/proc/sys` by the child before it
   * runs the program (`{ 'net.ipv4.ip_unprivileged_port_start': '0' }`).
   * Only keys of a namespace the child has apart from this process are
   * accepted (`net.*` with a new or joined network namespace, System V
   * IPC keys and `fs.mqueue.*` with ipc, `kernel.hostname` and
   * `kernel.domainname` with uts): any other key is the host's.
   */
  sysctl?: Record<string, string>;
  /**
   * The execution domain (`personality(2)`): `'LINUX32'` makes `uname -m`
   * report a 32-bit machine, as `setarch i686` does; or the raw number.
   */
  personality?: 'LINUX' | 'LINUX32' | number;
  /** The child's I/O scheduling class and level (`ioprio_set(2)`, as `ionice`). */
  ioPriority?: IoPriority;
  /**
   * The NUMA memory policy the program runs under (`set_mempolicy(2)`, as
   * `numactl --membind` / `--interleave`), set by the child right before
   * exec. A policy the kernel refuses (a node that is not online) fails the
   * spawn with `ENS_MEMORY_POLICY` and the errno.
   */
  memoryPolicy?: MemoryPolicy;
  /**
   * The scheduling policy the program runs under (`sched_setattr(2)`, as
   * `chrt`/`nice`), set by the child before it drops credentials. A policy
   * the kernel refuses (a real-time one in a cgroup without real-time
   * runtime: EPERM) fails the spawn with `ENS_SCHEDULER` and the errno.
   */
  scheduler?: Scheduler;
  /**
   * The cpus the program may run on (`sched_setaffinity(2)`, as
   * `taskset -c`), set by the child right before exec: numbers or a list
   * like `'0-1,3'`. A cpu the kernel refuses fails with `ENS_CPU_AFFINITY`.
   */
  cpuAffinity?: number[] | string;
}

/** A scheduling policy and its parameters (OCI `process.scheduler`). */
export interface Scheduler {
  /** `SCHED_OTHER` is `'other'`, `SCHED_FIFO` is `'fifo'`, ... */
  policy: 'other' | 'fifo' | 'rr' | 'batch' | 'iso' | 'idle' | 'deadline';
  /** Nice value, -20 to 19 (`other`, `batch`). */
  nice?: number;
  /** Static priority, 1 to 99: required for `fifo` and `rr`, refused for the others. */
  priority?: number;
  /** `SCHED_FLAG_*` flags (`SCHED_FLAG_RESET_ON_FORK` is `'reset-on-fork'`, ...). */
  flags?: Array<'reset-on-fork' | 'reclaim' | 'dl-overrun' | 'keep-policy' | 'keep-params' | 'util-clamp-min' | 'util-clamp-max'>;
  /** `deadline` only: runtime in ns (at most the deadline). */
  runtime?: number;
  /** `deadline` only: relative deadline in ns (at most the period). */
  deadline?: number;
  /** `deadline` only: period in ns. */
  period?: number;
}

/** A NUMA memory policy (OCI `linux.memoryPolicy`). */
export interface MemoryPolicy {
  /** The policy mode (`MPOL_BIND` is `'bind'`, `MPOL_PREFERRED_MANY` is `'preferred-many'`, ...). */
  mode: 'default' | 'preferred' | 'bind' | 'interleave' | 'local' | 'preferred-many' | 'weighted-interleave';
  /** The nodes, as numbers or a list like `'0-3,7'`. */
  nodes?: number[] | string;
  /** Mode flags (`MPOL_F_STATIC_NODES` is `'static-nodes'`, ...). */
  flags?: Array<'static-nodes' | 'relative-nodes' | 'numa-balancing'>;
}

/** An I/O scheduling class and its level (0 highest to 7 lowest; `idle` has none). */
export interface IoPriority {
  /** Real-time, best-effort or idle. */
  class: 'rt' | 'be' | 'idle';
  /** 0 (highest) to 7 (lowest). Default 4. */
  level?: number;
}

/** How a child ended: an exit code, or the signal that killed it (shared by every package). */
export type { ExitResult } from '@ctr/common';
import type { ExitResult } from '@ctr/common';

/** What {@link run} returns. */
export interface RunResult extends ExitResult {
  /** Host pid the child had. */
  pid: number;
  /** Everything the child wrote to stdout. */
  stdout: string;
  /** Everything the child wrote to stderr. */
  stderr: string;
}

/**
 * The default masked paths (for {@link RootfsOptions.maskedPaths}): runc's
 * defaults plus `/sys/devices/virtual/powercap`. The list lives in Rust
 * (`ctr_common::paths`), shared with `ctrun spec` and `@ctr/runtime`.
 */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze(native.defaultMaskedPaths());

/** The default read-only paths (for {@link RootfsOptions.readonlyPaths}); from `ctr_common::paths`. */
export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze(native.defaultReadonlyPaths());
