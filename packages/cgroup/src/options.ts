/**
 * A byte size: a number of bytes, or a string with a binary unit
 * (`'512k'`, `'5m'`, `'1.5g'`), or `'max'` / `-1` for unlimited.
 */
export type Size = number | string;

/** Memory limits (OCI `linux.resources.memory`, plus v2 spellings). */
export interface MemoryResources {
  /** Hard limit (v1 `memory.limit_in_bytes`, v2 `memory.max`). */
  limit?: Size;
  /** Alias of `limit`. */
  max?: Size;
  /** Soft limit / protection (v1 `memory.soft_limit_in_bytes`, v2 `memory.low`). */
  reservation?: Size;
  /** Alias of `reservation`. */
  low?: Size;
  /** Throttle threshold (v2 `memory.high`; v1 has none). */
  high?: Size;
  /** Memory plus swap, as in OCI (v2: `memory.swap.max` = swap - limit). */
  swap?: Size;
  /** v1 `memory.swappiness` (0..100). */
  swappiness?: number;
  /** Disable the OOM killer (v1 only). */
  disableOOMKiller?: boolean;
  /** Kill the whole group on OOM (v2 `memory.oom.group`). */
  oomGroup?: boolean;
  /**
   * OCI kernel memory limit (NOT RECOMMENDED by the spec). v1: written to
   * `memory.kmem.limit_in_bytes` (kernels >= 5.16 accept and ignore it);
   * v2: only `-1` is accepted (kernel memory counts toward the memory limit).
   */
  kernel?: number;
  /** OCI kernel TCP buffer limit: v1 `memory.kmem.tcp.limit_in_bytes`; v2: only `-1`. */
  kernelTCP?: number;
  /** OCI field, ignored (always hierarchical on current kernels). */
  useHierarchy?: boolean;
  /** OCI field, ignored. */
  checkBeforeUpdate?: boolean;
}

/** CPU limits (OCI `linux.resources.cpu`, plus `weight` and `limit`). */
export interface CpuResources {
  /** v1 shares (2..262144); converted to a v2 weight as runc does. */
  shares?: number;
  /** v2 weight (1..10000); converted to v1 shares. */
  weight?: number;
  /** CFS quota in microseconds per period; -1 unlimited. */
  quota?: number;
  /** CFS period in microseconds (default 100000). */
  period?: number;
  /** CFS burst in microseconds. */
  burst?: number;
  /** 1: the group runs as SCHED_IDLE. */
  idle?: number;
  /** Realtime runtime in microseconds (v1 only). */
  realtimeRuntime?: number;
  /** Realtime period in microseconds (v1 only). */
  realtimePeriod?: number;
  /** cpuset cpus, e.g. `'0-1,3'`. */
  cpus?: string;
  /** cpuset memory nodes. */
  mems?: string;
  /** Friendly: CPUs' worth of time, `0.2` = 20% of one cpu (sets quota and period). */
  limit?: number;
}

/** One `major:minor` value. */
export interface DeviceValue {
  /** Device major. */
  major: number;
  /** Device minor. */
  minor: number;
}

/** Block I/O (OCI `linux.resources.blockIO`). */
export interface BlockIoResources {
  /** Default weight (OCI 10..1000; converted for v2). */
  weight?: number;
  /** OCI field, unused by current kernels. */
  leafWeight?: number;
  /** Per-device weights. */
  weightDevice?: Array<DeviceValue & { weight: number }>;
  /** Bytes/s read limits. */
  throttleReadBpsDevice?: Array<DeviceValue & { rate: number }>;
  /** Bytes/s write limits. */
  throttleWriteBpsDevice?: Array<DeviceValue & { rate: number }>;
  /** Read ops/s limits. */
  throttleReadIOPSDevice?: Array<DeviceValue & { rate: number }>;
  /** Write ops/s limits. */
  throttleWriteIOPSDevice?: Array<DeviceValue & { rate: number }>;
}

/** One device rule (OCI `linux.resources.devices[]`); later rules win. */
export interface DeviceRule {
  /** Allow or deny. */
  allow: boolean;
  /** `a` (all), `b` (block) or `c` (char); default `a`. */
  type?: 'a' | 'b' | 'c';
  /** Major; absent or -1 for any. */
  major?: number | null;
  /** Minor; absent or -1 for any. */
  minor?: number | null;
  /** Subset of `rwm`; default `rwm`. */
  access?: string;
}

/**
 * Every limit a cgroup can have. The OCI `linux.resources` object is
 * accepted as is; sizes may also be strings with units.
 */
export interface Resources {
  /** Memory. */
  memory?: MemoryResources;
  /** CPU (and the OCI spot for cpuset cpus/mems). */
  cpu?: CpuResources;
  /** cpuset (friendly spelling of `cpu.cpus`/`cpu.mems`). */
  cpuset?: { cpus?: string; mems?: string };
  /** Maximum number of tasks; `-1`, `0` or `'max'` for unlimited. */
  pids?: { limit?: number | 'max'; max?: number | 'max' };
  /** Block I/O. */
  blockIO?: BlockIoResources;
  /** Alias of `blockIO`. */
  io?: BlockIoResources;
  /** Hugepage limits, e.g. `[{ pageSize: '2MB', limit: '4m' }]`. */
  hugepageLimits?: Array<{ pageSize: string; limit: Size }>;
  /** Device rules, in order. */
  devices?: DeviceRule[];
  /** rdma limits per device. */
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** misc controller limits per resource. */
  misc?: Record<string, number>;
  /** Raw cgroup v2 files and values, written last. */
  unified?: Record<string, string>;
  /**
   * OCI `network`: `classID` (net_cls.classid) and per-interface
   * `priorities` (net_prio.ifpriomap). cgroup v1 only, where a hierarchy
   * has net_cls / net_prio; elsewhere `ECGROUP_UNSUPPORTED` names the field.
   */
  network?: { classID?: number; priorities?: Array<{ name: string; priority: number }> };
}

/** How to reach the cgroup. */
export interface CgroupOptions {
  /**
   * `auto` (default): picked once from the host's layout (v1 + the cgroup2
   * directory on hybrid hosts, v2 on unified). `v2` forces the cgroup2
   * hierarchy only (on a hybrid host, `/sys/fs/cgroup/unified`); `v1`
   * forces the v1 hierarchies. `systemd` makes the cgroup a transient
   * systemd scope over D-Bus, as runc's `--systemd-cgroup` (cgroup v2
   * hosts with systemd; `path` is `slice:prefix:name`, e.g.
   * `system.slice:ctr:abc` for `ctr-abc.scope` in `system.slice`):
   * limits become unit properties and are written to the scope's files;
   * `delete` stops the unit. systemd keeps a scope only while a process is
   * in it: a placeholder holds it until the first `addProcess`.
   * `ECGROUP_SYSTEMD_UNAVAILABLE` (naming the socket) without systemd.
   */
  backend?: 'auto' | 'v1' | 'v2' | 'systemd';
  /** Only these controllers (v1: only hierarchies holding them). */
  controllers?: string[];
  /**
   * How a path without a leading `/` is read. An absolute path (`'/jobs/1'`)
   * always starts at the hierarchy root. A relative one (`'jobs/1'`) is
   * refused with `ECGROUP_RELATIVE_PATH` unless this is `'own-cgroup'`:
   * then it is joined to the calling process's own cgroup in each
   * hierarchy (`/proc/self/cgroup`), e.g. for a delegated subtree.
   */
  relativeTo?: 'own-cgroup';
}

/** Options of {@link Cgroup.delete}. */
export interface DeleteOptions {
  /** Kill every process first (otherwise a populated group fails with `ECGROUP_BUSY`). */
  kill?: boolean;
}

/** Memory statistics (bytes). A field is absent when the host lacks it. */
export interface MemoryStats {
  /** Current usage. */
  current?: number;
  /** Peak usage. */
  peak?: number;
  /** Limit (absent when unlimited). */
  limit?: number;
  /** Page cache (v1 cache, v2 file). */
  cache?: number;
  /** Anonymous memory (v1 rss, v2 anon). */
  rss?: number;
  /** Swap used. */
  swap?: number;
  /** Times the limit was hit. */
  failcnt?: number;
  /** OOM situations (v2). */
  oom?: number;
  /** Processes killed by the OOM killer. */
  oomKill?: number;
}

/** CPU statistics (microseconds). */
export interface CpuStats {
  /** Total CPU time. */
  usageUsec?: number;
  /** User time. */
  userUsec?: number;
  /** System time. */
  systemUsec?: number;
  /** CFS periods elapsed. */
  nrPeriods?: number;
  /** Periods throttled. */
  nrThrottled?: number;
  /** Time throttled. */
  throttledUsec?: number;
}

/** I/O of one device. */
export interface IoDeviceStats {
  /** Device major. */
  major: number;
  /** Device minor. */
  minor: number;
  /** Bytes read. */
  readBytes: number;
  /** Bytes written. */
  writeBytes: number;
  /** Read operations. */
  readOps: number;
  /** Write operations. */
  writeOps: number;
}

/** Statistics in one shape on v1 and v2. */
export interface CgroupStats {
  /** Memory. */
  memory: MemoryStats;
  /** CPU. */
  cpu: CpuStats;
  /** Pids (`limit` absent when unlimited). */
  pids: { current?: number; limit?: number };
  /** I/O per device. */
  io: IoDeviceStats[];
  /** Hugetlb per page size (`'2MB'`). */
  hugetlb: Record<string, { current: number; peak?: number; limit?: number; failcnt?: number }>;
}

/** Kinds of {@link CgroupEvent}. */
export type CgroupEventType = 'oom' | 'oom_kill' | 'populated' | 'empty' | 'frozen' | 'thawed' | 'high' | 'max';

/** Something that happened to a cgroup. */
export interface CgroupEvent {
  /** What happened. */
  type: CgroupEventType;
  /** For counters: how many since the last event. */
  count?: number;
  /** For counters: the total so far. */
  total?: number;
}
