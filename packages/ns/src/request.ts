// The one module that maps the user-facing options to the binding's plain
// request (DESIGN.md: the TS layer maps its types to the binding's).
import { readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { NsError } from './errors';
import { terminalSize } from './terminal';
import type { SpawnRequest } from './native';
import type { IdMapEntry, NamespaceName, SpawnOptions, StdioOption } from './options';

const PIPE = -1;
const IGNORE = -2;

export function signalNumber(sig: NodeJS.Signals | number, field: string): number {
  if (typeof sig === 'number') return sig;
  const n = (osConstants.signals as Record<string, number>)[sig];
  if (n === undefined) throw new NsError({ code: 'ENS_INVALID_OPTION', message: `unknown signal ${sig}`, path: field });
  return n;
}

export function signalName(n: number): NodeJS.Signals {
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (entry ? entry[0] : `SIG${n}`) as NodeJS.Signals;
}

function stdioFds(stdio: SpawnOptions['stdio']): number[] {
  const list: StdioOption[] = Array.isArray(stdio) ? stdio : [stdio ?? 'pipe', stdio ?? 'pipe', stdio ?? 'pipe'];
  if (list.length !== 3) throw new NsError({ code: 'ENS_INVALID_OPTION', message: 'stdio must have three entries', path: 'stdio' });
  return list.map((s, i) => {
    if (s === 'pipe') return PIPE;
    if (s === 'ignore') return IGNORE;
    if (s === 'inherit') return i;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0) return s;
    throw new NsError({ code: 'ENS_INVALID_OPTION', message: `invalid stdio entry ${String(s)}`, path: `stdio[${i}]` });
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
    throw new NsError({ code: 'ENS_INVALID_OPTION', message: 'seccomp must be a Buffer or Uint8Array of sock_filter instructions', path: 'seccomp' });
  }
  return Buffer.isBuffer(prog) ? prog : Buffer.from(prog.buffer, prog.byteOffset, prog.byteLength);
}

function uint32(n: number | undefined, field: string): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new NsError({ code: 'ENS_INVALID_OPTION', message: `${field} must be an unsigned 32-bit integer`, path: field });
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

const bad = (path: string, message: string) => new NsError({ code: 'ENS_INVALID_OPTION', message, path });

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

/** Build the native request for {@link spawn}. */
export function toRequest(command: string, args: string[], opts: SpawnOptions): SpawnRequest {
  const join = Object.entries(opts.join ?? {}).filter((e): e is [NamespaceName, string | number] => e[1] !== undefined);
  const [mSec, mNsec] = seconds(opts.timeOffsets?.monotonic, 'timeOffsets.monotonic');
  const [bSec, bNsec] = seconds(opts.timeOffsets?.boottime, 'timeOffsets.boottime');
  const rootfs = typeof opts.rootfs === 'string' ? { path: opts.rootfs } : opts.rootfs;
  if (opts.oomScoreAdj !== undefined && !Number.isInteger(opts.oomScoreAdj)) throw bad('oomScoreAdj', 'oomScoreAdj must be an integer');
  if (opts.groups !== undefined && !Array.isArray(opts.groups)) throw bad('groups', 'groups must be an array of gids');
  if (opts.setgroups !== undefined && opts.setgroups !== 'allow' && opts.setgroups !== 'deny') throw bad('setgroups', "setgroups must be 'allow' or 'deny'");
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
