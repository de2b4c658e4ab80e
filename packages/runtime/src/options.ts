/** Where one of the container's standard streams goes. */
export type StdioOption = 'pipe' | 'ignore' | 'inherit' | number;

/** Options of {@link Container.create}. */
export interface CreateOptions {
  /** Container id: 1-1024 of `[A-Za-z0-9_+.-]`, not starting with `.`. */
  id: string;
  /** OCI bundle directory (holds `config.json`). */
  bundle: string;
  /** State root shared with `ctrun` (default `/run/ctrun`). */
  root?: string;
  /** Write the init's pid to this file. */
  pidFile?: string;
  /** stdin, stdout, stderr of the container process (default all `'pipe'`). */
  stdio?: StdioOption | [StdioOption, StdioOption, StdioOption];
  /** Aborting it kills and deletes the container. */
  signal?: AbortSignal;
}

/** The OCI state of a container, as `ctrun state` prints it. */
export interface ContainerState {
  /** Spec version. */
  ociVersion: string;
  /** Container id. */
  id: string;
  /** Host pid of the init (0 once stopped). */
  pid: number;
  /** `created`, `running` or `stopped`. */
  status: 'creating' | 'created' | 'running' | 'stopped';
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
export interface ExitResult {
  /** Exit code, if it exited. */
  exitCode: number | null;
  /** Terminating signal, if killed by one. */
  signal: NodeJS.Signals | null;
}

/** Options of {@link run}: a friendly description turned into an OCI config. */
export interface RunOptions {
  /** Root filesystem directory. */
  rootfs: string;
  /** argv of the container process. */
  args: string[];
  /** Environment (default `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`). */
  env?: Record<string, string>;
  /** Working directory inside the container (default `/`). */
  cwd?: string;
  /** Host name (a uts namespace is always made). */
  hostname?: string;
  /** Mount the root filesystem read-only. */
  readonly?: boolean;
  /** User and group ids inside the container (default 0/0). */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** Network: `none` (a new, empty network namespace; the default) or `host`. */
  network?: 'none' | 'host';
  /** Container id (default a unique one). */
  id?: string;
  /** State root (default `/run/ctrun`). */
  root?: string;
  /** Data written to the container's stdin. */
  input?: string | Buffer;
  /** Aborting it kills and deletes the container. */
  signal?: AbortSignal;
}

/** What {@link run} returns. */
export interface RunResult extends ExitResult {
  /** Everything the container wrote to stdout. */
  stdout: string;
  /** Everything the container wrote to stderr. */
  stderr: string;
}
