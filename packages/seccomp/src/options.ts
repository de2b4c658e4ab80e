/** What a filter does with a system call (short names). */
export type ActionName = 'allow' | 'errno' | 'kill_thread' | 'kill_process' | 'trap' | 'trace' | 'log' | 'notify';

/** An OCI action name (`SCMP_ACT_*`). */
export type OciAction =
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

/** An OCI comparison operator. */
export type OciOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

/** A condition on one argument (`linux.seccomp.syscalls[].args[]`). */
export interface OciSyscallArg {
  /** Argument index, 0 to 5. */
  index: number;
  /** Compared value (the mask for `SCMP_CMP_MASKED_EQ`). */
  value: number;
  /** The datum for `SCMP_CMP_MASKED_EQ`. */
  valueTwo?: number;
  /** Operator. */
  op: OciOperator;
}

/** A rule of an OCI profile. */
export interface OciSyscall {
  /** System call names. */
  names: string[];
  /** Action. */
  action: OciAction;
  /** errno for `SCMP_ACT_ERRNO` (default EPERM), value for `SCMP_ACT_TRACE`. */
  errnoRet?: number;
  /** Conditions, all of which must hold (repeated indexes are ORed, as in runc). */
  args?: OciSyscallArg[];
}

/** The OCI `linux.seccomp` object. */
export interface OciSeccomp {
  /** Action for calls no rule matches. */
  defaultAction: OciAction;
  /** errno of a default `SCMP_ACT_ERRNO`. */
  defaultErrnoRet?: number;
  /** Extra architectures (`SCMP_ARCH_*`). */
  architectures?: string[];
  /** `SECCOMP_FILTER_FLAG_*` names. */
  flags?: string[];
  /** Unix socket of a seccomp agent that gets the listener fd. */
  listenerPath?: string;
  /** Opaque data passed to the agent. */
  listenerMetadata?: string;
  /** Rules. */
  syscalls?: OciSyscall[];
}

/** What to resolve a Docker-format profile for (Docker's defaults when omitted). */
export interface ResolveOptions {
  /** Bounding capabilities (`CAP_*`); default Docker's default set. */
  caps?: string[];
  /** Architecture: `x86_64`/`amd64`/`SCMP_ARCH_X86_64`, ...; default the host's. */
  arch?: string;
  /** Kernel version compared with `minKernel`, e.g. `"5.10"`; default the running kernel. */
  kernel?: string;
}

/** Options of {@link Profile.parse}. */
export interface ParseOptions extends ResolveOptions {
  /** Force a format; by default Docker's is recognised by `archMap`, `includes`, `excludes` or `comment`. */
  format?: 'oci' | 'docker' | 'auto';
}

/** How to compile. */
export interface CompileOptions {
  /** libseccomp's binary-tree layout for large filters. Default true. */
  binaryTree?: boolean;
  /** Also keep compiled programs in this directory, keyed by hash. */
  cacheDir?: string;
  /**
   * Architecture the program is for (`x86_64`, `aarch64`, `SCMP_ARCH_ARM`,
   * ...); default the host's. The profile's `architectures` are added.
   */
  arch?: string;
}

/** A compiled filter. */
export interface Program {
  /** `struct sock_filter[]` bytes, ready for `@ctr/ns` spawn's `seccomp`. */
  bpf: Buffer;
  /** `seccomp(2)` flags, including `NEW_LISTENER` (8) when a rule notifies. */
  flags: number;
  /** Rules skipped (unknown system call names), like runc's warnings. */
  warnings: string[];
  /** Cache key: sha256 of the canonical profile, arch and libseccomp version. */
  hash: string;
  /** Where it came from. */
  cache: 'miss' | 'memory' | 'disk';
}

/** Architectures {@link Profile.evaluate} can explain calls of. */
export type CallArch = 'x86_64' | 'x86' | 'i386' | 'x32';

/** A call to explain. */
export interface CallInput {
  /** Name or number. */
  syscall: string | number;
  /** Up to six arguments. */
  args?: Array<number | bigint>;
  /** Caller architecture; default `x86_64`. */
  arch?: CallArch;
}

/** What a filter does with a call, and why. */
export interface Verdict {
  /** The action, from running the compiled BPF. */
  action: ActionName;
  /** The errno, for `errno`. */
  errno?: number;
  /** The message value, for `trace`. */
  traceData?: number;
  /** Raw 32-bit return value of the program. */
  ret: number;
  /** Index of the deciding rule in `profile.json.syscalls`, or null for the default action. */
  rule: number | null;
  /** System call number the program saw. */
  nr: number;
  /** System call name, where libseccomp knows it. */
  name: string | null;
}
