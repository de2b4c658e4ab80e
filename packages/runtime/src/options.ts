import type { Signal } from '@ctr/common';
import type { BridgeNetwork, PublishedPort } from '@ctr/netns';
import type { Profile } from '@ctr/seccomp';

/** Where one of the container's standard streams goes. */
export type StdioOption = 'pipe' | 'ignore' | 'inherit' | number;

/**
 * A port published from the host to a bridged container: `@ctr/netns`'s
 * `PublishedPort`, `{ hostPort, containerPort, protocol? }` (CNI's and
 * Kubernetes' spelling). The old `{ host, container }` is refused with
 * `ERUNTIME_RENAMED_OPTION` naming the new field.
 */
export type PortMapping = PublishedPort;

/** A bridged network attachment: the container gets `eth0` on the bridge, `lo` up and a default route. */
export interface BridgeAttachment {
  /** The network, or the name of an existing one (`BridgeNetwork.open`). */
  bridge: BridgeNetwork | string;
  /** Ports to publish. */
  ports?: PortMapping[];
}

/**
 * Network mode of a container:
 * - `'none'`: a new network namespace with only `lo`, down (the default);
 * - `'loopback'`: a new network namespace with `lo` up;
 * - `'host'`: no network namespace, the host's network;
 * - `{ bridge, ports }`: a new network namespace attached to a `@ctr/netns` bridge.
 */
export type NetworkOption = 'none' | 'loopback' | 'host' | BridgeAttachment;

/**
 * A byte size, the same in every ctr package: a whole number of bytes, or a
 * string such as `'512k'`, `'64m'`, `'1.5g'`, `'64MiB'`, `'1GiB'` (powers of
 * 1024, any case), or `'max'` / `-1` for unlimited.
 */
export type Size = number | string;

/** Resource limits in readable units, turned into `linux.resources`. */
export interface Limits {
  /** Memory limit (`memory.limit`; `'max'` for none); exceeding it ends in an OOM kill. */
  memory?: Size;
  /** Most processes at once (`pids.limit`). */
  pids?: number;
  /** CPUs worth of time, e.g. `0.5` (`cpu.quota` over a 100 ms `cpu.period`). */
  cpu?: number;
}

/** A seccomp filter: `'default'` (Docker's default profile), a `@ctr/seccomp` `Profile`, or an OCI `linux.seccomp` object. */
export type SeccompOption = 'default' | Profile | Record<string, unknown>;

/**
 * The root filesystem of a friendly container. The host directory is never
 * written by default: it is mounted read-only (with a fresh tmpfs on `/tmp`
 * when the directory has one), or with `overlay` the container writes to a
 * private layer of its own that is discarded at delete.
 */
export interface RootfsOptions {
  /** The root filesystem directory on the host. */
  path: string;
  /**
   * Mount it read-only (default `true`). `false` lets the container write
   * into the host directory itself, which every container sharing it sees.
   */
  readonly?: boolean;
  /**
   * Give the container a writable overlay over `path` (default `false`):
   * writes land in an upper directory in the container's bundle, never in
   * `path` nor in another container, and are removed at delete. The overlay
   * is mounted in the container's own mount namespace only. Cannot be
   * combined with `readonly: true`.
   */
  overlay?: boolean;
}

/** A container described in friendly terms, turned into an OCI config. */
export interface ContainerSpec {
  /** Root filesystem: a directory (mounted read-only), or {@link RootfsOptions} (read-only, writable, or an overlay per container). */
  rootfs: string | RootfsOptions;
  /** argv of the container process. */
  args: string[];
  /** Environment (default `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`). */
  env?: Record<string, string>;
  /** Working directory inside the container (default `/`). */
  cwd?: string;
  /** Host name (a uts namespace is always made). */
  hostname?: string;
  /**
   * Replaced by `rootfs: { path, readonly }` (the rootfs is read-only by
   * default now); giving it is refused with `ERUNTIME_RENAMED_OPTION`.
   * @deprecated Use `rootfs: { path, readonly }`.
   */
  readonly?: never;
  /** User and group ids inside the container (default 0/0). */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /**
   * A new user namespace with these uid maps (OCI `linux.uidMappings`). A
   * caller that is not root gets one by default mapping its own uid to 0
   * (as `ctrun spec --rootless`); maps beyond its own id are written by
   * `newuidmap` from its `/etc/subuid` ranges (docs/runtime.md, "Rootless").
   */
  uidMap?: IdMapping[];
  /** The gid maps of the user namespace (see {@link uidMap}). */
  gidMap?: IdMapping[];
  /** Network mode (default `'none'`). */
  network?: NetworkOption;
  /** Resource limits. */
  limits?: Limits;
  /** Seccomp filter (default none). */
  seccomp?: SeccompOption;
  /**
   * Give the container process a pseudo-terminal (`process.terminal`, with
   * `consoleSize` when a size is given): it is made in the container's own
   * `/dev/pts` and bound onto `/dev/console`, and the master is
   * {@link Container.terminal}. `stdio` is then not used.
   */
  terminal?: boolean | { cols: number; rows: number };
}

/** One line of a user namespace's id map. */
export interface IdMapping {
  /** First id inside the container. */
  containerID: number;
  /** First id on the host. */
  hostID: number;
  /** How many ids. */
  size: number;
}

/** Options of {@link Container.create} common to both forms. */
export interface CommonCreateOptions {
  /** Container id: 1-1024 of `[A-Za-z0-9_+.-]`, not starting with `.`. */
  id: string;
  /** State root shared with `ctrun` (default {@link defaultRoot}: `/run/ctrun`, or `$XDG_RUNTIME_DIR/ctrun` for a non-root caller). */
  root?: string;
  /** Write the init's pid to this file. */
  pidFile?: string;
  /** stdin, stdout, stderr of the container process (default all `'pipe'`). */
  stdio?: StdioOption | [StdioOption, StdioOption, StdioOption];
  /** Aborting it kills and deletes the container. */
  signal?: AbortSignal;
  /**
   * Enter the root filesystem with `MS_MOVE` + `chroot` instead of
   * `pivot_root` (`ctrun create --no-pivot`: for a rootfs on an initramfs,
   * where `pivot_root` is refused). Default false.
   */
  noPivot?: boolean;
}

/** {@link Container.create} from an OCI bundle. */
export interface BundleCreateOptions extends CommonCreateOptions {
  /** OCI bundle directory (holds `config.json`). */
  bundle: string;
  /**
   * Network to set up in the container's new network namespace between
   * create and start (`'loopback'` or a bridge; `'none'` and `'host'` are
   * what the bundle's config says). The config must ask for a new network namespace.
   */
  network?: NetworkOption;
}

/** {@link Container.create} from a friendly description (a bundle is written for it and removed at delete). */
export interface SpecCreateOptions extends CommonCreateOptions, ContainerSpec {}

/** Options of {@link Container.create}: an OCI bundle, or a friendly description. */
export type CreateOptions = BundleCreateOptions | SpecCreateOptions;

/** The OCI state of a container, as `ctrun state` prints it. */
export interface ContainerState {
  /** Spec version. */
  ociVersion: string;
  /** Container id. */
  id: string;
  /** Host pid of the init (0 once stopped). */
  pid: number;
  /**
   * `creating` (being created, or its creator died before it was done:
   * `delete({ force })` or {@link gc} removes it), `created`, `running`,
   * `paused` or `stopped`.
   */
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  /** Absolute bundle path. */
  bundle: string;
  /** Absolute rootfs path. */
  rootfs: string;
  /** Creation time, RFC 3339. */
  created: string;
  /** Owner user name. */
  owner: string;
  /** The config's annotations. */
  annotations?: Record<string, string>;
}

/** How a container's process ended. Both `null` for a container this process did not create (only its end is known). */
export type { ExitResult } from '@ctr/common';
import type { ExitResult } from '@ctr/common';

/** Options of {@link run}: a friendly description turned into an OCI config. */
export interface RunOptions extends ContainerSpec {
  /** Container id (default a unique one). */
  id?: string;
  /** State root (default {@link defaultRoot}: `/run/ctrun`, or `$XDG_RUNTIME_DIR/ctrun` for a non-root caller). */
  root?: string;
  /** Data written to the container's stdin. */
  input?: string | Buffer;
  /** Aborting it kills and deletes the container (run rejects with `ERUNTIME_ABORTED`). */
  signal?: AbortSignal;
}

/** What {@link run} returns. */
export interface RunResult extends ExitResult {
  /** Everything the container wrote to stdout (with `terminal`: what came
   * through the pty, line ends as `\r\n`). */
  stdout: string;
  /** Everything the container wrote to stderr. */
  stderr: string;
  /** The kernel's OOM killer acted in the container's cgroup. */
  oom: boolean;
  /** Shell-style status: the exit code, or 128 + signal number (137 for SIGKILL). */
  status: number;
}

/**
 * An OCI `process` object (runtime-spec config.md), for
 * {@link Container.exec} when the whole process is given.
 */
export interface OciProcess {
  /** argv; `args[0]` is looked up in the process's `PATH` when it has no `/`. */
  args: string[];
  /** Environment, `KEY=value`. */
  env?: string[];
  /** Absolute working directory inside the container. */
  cwd: string;
  /** User and groups. */
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  /** Capability sets (names such as `CAP_KILL`); a missing set is empty. */
  capabilities?: { bounding?: string[]; effective?: string[]; permitted?: string[]; inheritable?: string[]; ambient?: string[] };
  /** Resource limits. */
  rlimits?: { type: string; soft: number; hard: number }[];
  /** Set `no_new_privs`. */
  noNewPrivileges?: boolean;
  /** `/proc/self/oom_score_adj`. */
  oomScoreAdj?: number;
  /** Not supported: must be false or absent. */
  terminal?: boolean;
  /**
   * `sched_setattr(2)` of the process (`SCHED_BATCH`, `SCHED_FIFO` with a
   * priority, ...); a refusal is `ERUNTIME_SCHEDULER` with the errno.
   */
  scheduler?: {
    policy: 'SCHED_OTHER' | 'SCHED_FIFO' | 'SCHED_RR' | 'SCHED_BATCH' | 'SCHED_ISO' | 'SCHED_IDLE' | 'SCHED_DEADLINE';
    nice?: number;
    priority?: number;
    flags?: string[];
    runtime?: number;
    deadline?: number;
    period?: number;
  };
  /**
   * Cpu lists (`'0-1,3'`) for an exec'd process: `initial` while it is set
   * up, `final` for the program (without it: the container cgroup's cpuset).
   */
  execCPUAffinity?: { initial?: string; final?: string };
  /** Other OCI fields, passed through (unsupported ones are refused with `ERUNTIME_UNSUPPORTED`). */
  [key: string]: unknown;
}

/**
 * Options of {@link Container.exec}. Without `process`, the container's own
 * process (its config's) is the base and these change it, as `runc exec`'s
 * flags do.
 */
export interface ExecOptions {
  /** stdin, stdout, stderr of the process (default all `'pipe'`). */
  stdio?: StdioOption | [StdioOption, StdioOption, StdioOption];
  /** Added to (or replacing entries of) the container's environment. */
  env?: Record<string, string>;
  /** Working directory inside the container. */
  cwd?: string;
  /** User and group ids (a gid alone keeps the uid). */
  user?: { uid?: number; gid?: number; additionalGids?: number[] };
  /** Capabilities added to the bounding, effective and permitted sets. */
  capabilities?: string[];
  /** Set (or with `false` clear) `no_new_privs`. */
  noNewPrivileges?: boolean;
  /** Write the process's host pid to this file. */
  pidFile?: string;
  /** Give the process a pty of the container's devpts (`ExecProcess.terminal`); the container needs a devpts mount on /dev/pts. */
  terminal?: boolean;
}

/** Options of {@link Container.kill}. */
export interface KillOptions {
  /** Signal every process of the container, not only the init. */
  all?: boolean;
}

/** Options of {@link Container.stop}. */
export interface StopOptions {
  /** Milliseconds to wait for the init to end after `signal` before `SIGKILL` (default 10000, as `docker stop`; 0 kills at once). */
  timeout?: number;
  /** The polite signal sent first (default `SIGTERM`). */
  signal?: Signal;
}

/** Options of {@link Container.events}. */
export interface EventsOptions {
  /** Milliseconds between `stats` events (default 5000, as runc). */
  interval?: number;
  /** Ends the stream. */
  signal?: AbortSignal;
}

/**
 * One event of {@link Container.events}, as `ctrun events` prints it:
 * `stats` carries runc's `types.Stats` shape (cpu, memory, pids, blkio,
 * hugetlb; times in nanoseconds), `oom` has no data.
 */
export type ContainerEvent =
  | { type: 'stats'; id: string; data: RuncStats }
  | { type: 'oom'; id: string };

/** runc's statistics shape (`types.Stats`); zero values are omitted, as runc does. */
export interface RuncStats {
  /** CPU usage (nanoseconds) and CFS throttling. */
  cpu: {
    usage: { total?: number; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  /** Memory: usage (`usage`, `max`, `limit`, `failcnt`), swap, and the raw `memory.stat` keys. */
  memory: {
    cache?: number;
    usage: { limit: number; usage?: number; max?: number; failcnt: number };
    swap: { limit: number; usage?: number; max?: number; failcnt: number };
    raw?: Record<string, number>;
  };
  /** Tasks now and the limit (absent when unlimited). */
  pids: { current?: number; limit?: number };
  /** Bytes and operations per device. */
  blkio: {
    ioServiceBytesRecursive?: { major: number; minor: number; op: string; value: number }[];
    ioServicedRecursive?: { major: number; minor: number; op: string; value: number }[];
  };
  /** Per page size (`2MB`). */
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

/** What {@link gc} removed. */
export interface GcResult {
  /** Ids of the records removed. */
  removed: string[];
  /** Records that could not be removed, with the reason. */
  failed: Array<{ id: string; code: string; message: string }>;
  /** Hidden leftovers of claims and removals cut short that were removed. */
  swept: number;
}
