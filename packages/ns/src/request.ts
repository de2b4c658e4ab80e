// The one module that maps the user-facing options to the binding's plain
// request (DESIGN.md: the TS layer maps its types to the binding's).
import { readlinkSync } from 'node:fs';
import { signalError, signalName, signalNumberOf, type Signal } from '@ctr/common';
import { NsError, call } from './errors';
import { terminalSize } from './terminal';
import { native, type SpawnRequest } from './native';
import type { IdMapEntry, NamespaceName, SpawnOptions, StdioOption } from './options';
import { NsCodes } from './codes';

const PIPE = -1;
const IGNORE = -2;

/** The number of a {@link Signal} given for `field`; `ENS_INVALID_OPTION` naming the field for an unknown one. */
export function signalNumber(sig: Signal, field: string): number {
  const n = signalNumberOf(sig);
  if (n === undefined) throw new NsError({ code: NsCodes.InvalidOption, message: signalError(sig, field), path: field });
  return n;
}

export { signalName };

function stdioFds(stdio: SpawnOptions['stdio']): number[] {
  const list: StdioOption[] = Array.isArray(stdio) ? stdio : [stdio ?? 'pipe', stdio ?? 'pipe', stdio ?? 'pipe'];
  if (list.length !== 3) throw new NsError({ code: NsCodes.InvalidOption, message: 'stdio must have three entries', path: 'stdio' });
  return list.map((s, i) => {
    if (s === 'pipe') return PIPE;
    if (s === 'ignore') return IGNORE;
    if (s === 'inherit') return i;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0) return s;
    throw new NsError({ code: NsCodes.InvalidOption, message: `invalid stdio entry ${String(s)}`, path: `stdio[${i}]` });
  });
}

function envList(env: SpawnOptions['env']): string[] {
  return Object.entries(env ?? process.env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

function seccompBuffer(prog: Uint8Array | undefined): Buffer | undefined {
  if (prog === undefined) return undefined;
  if (!(prog instanceof Uint8Array)) {
    throw new NsError({ code: NsCodes.InvalidOption, message: 'seccomp must be a Buffer or Uint8Array of sock_filter instructions', path: 'seccomp' });
  }
  return Buffer.isBuffer(prog) ? prog : Buffer.from(prog.buffer, prog.byteOffset, prog.byteLength);
}

function uint32(n: number | undefined, field: string): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new NsError({ code: NsCodes.InvalidOption, message: `${field} must be an unsigned 32-bit integer`, path: field });
  }
  return n;
}


function consoleRequest(opts: SpawnOptions): SpawnRequest['console'] {
  const size = terminalSize(opts.terminal);
  if (opts.consoleSocket !== undefined) {
    if (!size) throw bad('consoleSocket', 'consoleSocket needs terminal');
    if (!Number.isInteger(opts.consoleSocket) || opts.consoleSocket < 0) throw bad('consoleSocket', 'consoleSocket must be a file descriptor');
  }
  return size ? { ...size, socketFd: opts.consoleSocket } : undefined;
}

const bad = (path: string, message: string) => new NsError({ code: NsCodes.InvalidOption, message, path });

function idMap(list: IdMapEntry[] | undefined, field: string) {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw bad(field, `${field} must be an array`);
  return list.map((m, i) => {
    for (const k of ['containerID', 'hostID', 'size'] as const) {
      if (!Number.isInteger(m?.[k]) || m[k] < 0 || m[k] > 0xffffffff) throw bad(`${field}[${i}].${k}`, `${field}[${i}].${k} must be an unsigned 32-bit integer`);
    }
    return { inside: m.containerID, outside: m.hostID, count: m.size };
  });
}

/** `/proc/PID/ns/KIND` for a pid, else the path as given. */
export function nsPath(kind: NamespaceName, target: string | number): string {
  const proc = kind === 'mount' ? 'mnt' : kind === 'network' ? 'net' : kind;
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target <= 0) throw bad(`join.${kind}`, `join.${kind} must be a path or a pid`);
    return `/proc/${target}/ns/${proc}`;
  }
  if (typeof target !== 'string' || target === '') throw bad(`join.${kind}`, `join.${kind} must be a path or a pid`);
  return target;
}

function seconds(v: number | undefined, field: string): [number, number] {
  if (v === undefined) return [0, 0];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(field, `${field} must be a number of seconds`);
  const sec = Math.floor(v);
  return [sec, Math.round((v - sec) * 1e9)];
}

function limit(v: number, field: string): number {
  if (v === Infinity || v === -1) return -1;
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw bad(field, `${field} must be a non-negative integer or Infinity`);
  return v;
}

const PERSONALITIES = { LINUX: 0, LINUX32: 0x0008 } as const;

function personality(v: SpawnOptions['personality']): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    if (!(v in PERSONALITIES)) throw bad('personality', "personality must be 'LINUX', 'LINUX32' or a number");
    return PERSONALITIES[v as keyof typeof PERSONALITIES];
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad('personality', 'personality must be an unsigned 32-bit integer');
  return v;
}

const IO_CLASSES = { rt: 1, be: 2, idle: 3 } as const;

/**
 * `{ class, level }` as the `ioprio_set` value: class << 13 | level. Names and
 * defaults only: the level's range is checked in Rust (`ctr_common::sched`).
 */
function ioPriority(v: SpawnOptions['ioPriority']): number | undefined {
  if (v === undefined) return undefined;
  const cls = IO_CLASSES[v?.class as keyof typeof IO_CLASSES];
  if (!cls) throw bad('ioPriority.class', "ioPriority.class must be 'rt', 'be' or 'idle'");
  const level = v.level ?? (v.class === 'idle' ? 0 : 4);
  // A level the shift cannot carry is refused here; 0-7 is Rust's rule.
  if (!Number.isInteger(level) || level < 0 || level >= 1 << 13) throw bad('ioPriority.level', 'ioPriority.level must be 0 to 7');
  return (cls << 13) | level;
}

const MPOL_MODES = { default: 0, preferred: 1, bind: 2, interleave: 3, local: 4, 'preferred-many': 5, 'weighted-interleave': 6 } as const;
const MPOL_FLAGS = { 'numa-balancing': 1 << 13, 'relative-nodes': 1 << 14, 'static-nodes': 1 << 15 } as const;

/**
 * Cpu or node numbers of `[0, 2]` or `'0-3,7'`. A string goes to Rust's one
 * list parser (`ctr_common::cpulist`, through the binding); an array only
 * needs numbers the binding can carry: their range (0-1023) and an empty
 * affinity are refused in Rust, naming the field, as for the OCI path.
 */
function numberList(v: number[] | string, field: string, unit: 'cpu' | 'node'): number[] {
  if (typeof v === 'string') return call(() => native.parseCpuList(v, unit, field));
  if (!Array.isArray(v)) throw bad(field, `${field} must be an array of ${unit} numbers or a string like '0-3,7'`);
  for (const n of v) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw bad(field, `${field}: ${n} is not a ${unit} number`);
  }
  return v;
}

function memoryPolicy(v: SpawnOptions['memoryPolicy']): { mode: number; flags: number; nodes: number[] } | undefined {
  if (v === undefined) return undefined;
  const mode = MPOL_MODES[v?.mode as keyof typeof MPOL_MODES];
  if (mode === undefined) throw bad('memoryPolicy.mode', `memoryPolicy.mode must be one of ${Object.keys(MPOL_MODES).join(', ')}`);
  let flags = 0;
  for (const [i, f] of (v.flags ?? []).entries()) {
    const bit = MPOL_FLAGS[f as keyof typeof MPOL_FLAGS];
    if (bit === undefined) throw bad(`memoryPolicy.flags[${i}]`, `memoryPolicy.flags[${i}] must be one of ${Object.keys(MPOL_FLAGS).join(', ')}`);
    flags |= bit;
  }
  return { mode, flags, nodes: v.nodes === undefined ? [] : numberList(v.nodes, 'memoryPolicy.nodes', 'node') };
}

const SCHED_POLICIES = { other: 0, fifo: 1, rr: 2, batch: 3, iso: 4, idle: 5, deadline: 6 } as const;
const SCHED_FLAGS = {
  'reset-on-fork': 0x01,
  reclaim: 0x02,
  'dl-overrun': 0x04,
  'keep-policy': 0x08,
  'keep-params': 0x10,
  'util-clamp-min': 0x20,
  'util-clamp-max': 0x40,
} as const;

/**
 * `scheduler` as the binding's sched_attr fields: names to numbers only. The
 * rules (nice range, priority only for fifo/rr, deadline's three times) are
 * checked in Rust (`ctr_common::sched`, the same the OCI path uses).
 */
function scheduler(v: SpawnOptions['scheduler']) {
  if (v === undefined) return undefined;
  const policy = SCHED_POLICIES[v?.policy as keyof typeof SCHED_POLICIES];
  if (policy === undefined) throw bad('scheduler.policy', `scheduler.policy must be one of ${Object.keys(SCHED_POLICIES).join(', ')}`);
  let flags = 0;
  for (const [i, f] of (v.flags ?? []).entries()) {
    const bit = SCHED_FLAGS[f as keyof typeof SCHED_FLAGS];
    if (bit === undefined) throw bad(`scheduler.flags[${i}]`, `scheduler.flags[${i}] must be one of ${Object.keys(SCHED_FLAGS).join(', ')}`);
    flags |= bit;
  }
  // Shapes the binding's integer fields can carry; the ranges are Rust's.
  const int = (k: 'nice' | 'priority' | 'runtime' | 'deadline' | 'period', n: number, min: number, max: number) => {
    if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(`scheduler.${k}`, `scheduler.${k} must be a whole number`);
    return n;
  };
  const nice = int('nice', v.nice ?? 0, -(2 ** 31), 2 ** 31 - 1);
  const priority = int('priority', v.priority ?? 0, 0, 2 ** 32 - 1);
  const [runtime, deadline, period] = (['runtime', 'deadline', 'period'] as const).map((k) => int(k, v[k] ?? 0, 0, Number.MAX_SAFE_INTEGER));
  return { policy, flags, nice, priority, runtime, deadline, period };
}

function sysctl(v: SpawnOptions['sysctl']): Array<{ key: string; value: string }> | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('sysctl', 'sysctl must be an object of key: value strings');
  return Object.entries(v).map(([key, value]) => {
    if (typeof value !== 'string') throw bad(`sysctl.${key}`, `sysctl.${key} must be a string`);
    return { key, value };
  });
}

/** Build the native request for {@link spawn}. */
export function toRequest(command: string, args: string[], opts: SpawnOptions): SpawnRequest {
  const join = Object.entries(opts.join ?? {}).filter((e): e is [NamespaceName, string | number] => e[1] !== undefined);
  const [mSec, mNsec] = seconds(opts.timeOffsets?.monotonic, 'timeOffsets.monotonic');
  const [bSec, bNsec] = seconds(opts.timeOffsets?.boottime, 'timeOffsets.boottime');
  const rootfs = typeof opts.rootfs === 'string' ? { path: opts.rootfs } : opts.rootfs;
  if (opts.oomScoreAdj !== undefined && !Number.isInteger(opts.oomScoreAdj)) throw bad('oomScoreAdj', 'oomScoreAdj must be an integer');
  if (opts.groups !== undefined && !Array.isArray(opts.groups)) throw bad('groups', 'groups must be an array of gids');
  if (opts.setgroups !== undefined && opts.setgroups !== 'allow' && opts.setgroups !== 'deny') throw bad('setgroups', "setgroups must be 'allow' or 'deny'");
  // Only used on abort, but checked now: before anything is spawned.
  if (opts.killSignal !== undefined) signalNumber(opts.killSignal, 'killSignal');
  return {
    program: command,
    args: [opts.argv0 ?? command, ...args],
    env: envList(opts.env),
    cwd: opts.cwd,
    namespaces: (opts.namespaces ?? []).map(String),
    mountProc: opts.mountProc ?? false,
    hostname: opts.hostname,
    stdio: opts.terminal ? [IGNORE, IGNORE, IGNORE] : stdioFds(opts.stdio),
    console: consoleRequest(opts),
    hold: opts.hold ?? false,
    parentDeathSignal: opts.parentDeathSignal === undefined ? undefined : signalNumber(opts.parentDeathSignal, 'parentDeathSignal'),
    newSession: opts.detached ?? false,
    noNewPrivileges: opts.noNewPrivileges,
    seccomp: seccompBuffer(opts.seccomp),
    seccompFlags: uint32(opts.seccompFlags, 'seccompFlags'),
    seccompListener: opts.seccompListener,
    joins: join.length ? join.map(([kind, target]) => ({ kind, path: nsPath(kind, target) })) : undefined,
    uidMap: idMap(opts.uidMap, 'uidMap'),
    gidMap: idMap(opts.gidMap, 'gidMap'),
    setgroupsDeny: opts.setgroups === undefined ? undefined : opts.setgroups === 'deny',
    idMapHelpers: opts.idMapHelpers,
    timeOffsets: opts.timeOffsets ? { monotonicSec: mSec, monotonicNsec: mNsec, boottimeSec: bSec, boottimeNsec: bNsec } : undefined,
    domainname: opts.domainname,
    uid: uint32(opts.uid, 'uid'),
    gid: uint32(opts.gid, 'gid'),
    groups: opts.groups?.map((g, i) => uint32(g, `groups[${i}]`)!),
    umask: uint32(opts.umask, 'umask'),
    rlimits: opts.rlimits?.map((r, i) => ({ resource: String(r.type), soft: limit(r.soft, `rlimits[${i}].soft`), hard: limit(r.hard, `rlimits[${i}].hard`) })),
    capabilities: opts.capabilities
      ? {
          bounding: opts.capabilities.bounding ?? [],
          effective: opts.capabilities.effective ?? [],
          permitted: opts.capabilities.permitted ?? [],
          inheritable: opts.capabilities.inheritable ?? [],
          ambient: opts.capabilities.ambient ?? [],
        }
      : undefined,
    oomScoreAdj: opts.oomScoreAdj,
    sysctl: sysctl(opts.sysctl),
    personality: personality(opts.personality),
    ioPriority: ioPriority(opts.ioPriority),
    memoryPolicy: memoryPolicy(opts.memoryPolicy),
    scheduler: scheduler(opts.scheduler),
    cpuAffinity: opts.cpuAffinity === undefined ? undefined : numberList(opts.cpuAffinity, 'cpuAffinity', 'cpu'),
    extraFds: opts.extraFds?.map((fd, i) => {
      if (!Number.isInteger(fd) || fd < 0) throw bad(`extraFds[${i}]`, `extraFds[${i}] must be a file descriptor`);
      return fd;
    }),
    cgroups: opts.cgroup === undefined ? undefined : Array.isArray(opts.cgroup) ? opts.cgroup : [opts.cgroup],
    rootfs: rootfs
      ? {
          path: rootfs.path,
          propagation: rootfs.propagation,
          mounts: (rootfs.mounts ?? []).map((m, i) => ({
            destination: m.destination,
            source: m.source,
            fstype: m.type,
            options: m.options ?? [],
            uidMappings: idMap(m.uidMappings, `rootfs.mounts[${i}].uidMappings`),
            gidMappings: idMap(m.gidMappings, `rootfs.mounts[${i}].gidMappings`),
          })),
          readonly: rootfs.readonly ?? false,
          maskedPaths: rootfs.maskedPaths ?? [],
          readonlyPaths: rootfs.readonlyPaths ?? [],
          dev: rootfs.dev ?? true,
          noPivot: rootfs.noPivot ?? false,
        }
      : undefined,
  };
}

/** The namespaces of `pid` that differ from this process's (what `enter` joins by default). */
export function differingNamespaces(pid: number, kinds: readonly string[]): string[] {
  return kinds.filter((k) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/${k}`) !== readlinkSync(`/proc/self/ns/${k}`);
    } catch {
      return false;
    }
  });
}
