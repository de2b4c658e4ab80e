/**
 * Cgroups from Node: one API over cgroup v1, v2 and hybrid hosts —
 * limits, statistics, events.
 *
 * ```ts
^ * const cg = await Cgroup.create('/job', { memory: { max: '5m' }, pids: { max: 10 } });
 * await cg.addProcess(pid);
 * cg.on('oom_kill', () => console.log('killed'));
 * (await cg.stats()).memory.current;
 * await cg.delete({ kill: true });
 * ```
 *
 * @packageDocumentation
 */
import { call, CgroupError } from './errors';
import type { Size } from './options';
import { native } from './native';
import { CgroupCodes } from './codes';

export { CgroupError } from './errors';
export type { Signal } from '@ctr/common';
export type { CgroupErrorCode } from './codes';
export type { CommonErrorCode } from '@ctr/common';
export { Cgroup } from './cgroup';
export type * from './options';

/** How the host mounts cgroups. */
export type CgroupMode = 'legacy' | 'hybrid' | 'unified';

/** One mounted cgroup hierarchy. */
export interface Hierarchy {
  /** 1 or 2. */
  version: 1 | 2;
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory`. */
  mountPoint: string;
  /** Controllers attached to it (`name=systemd` for named v1 hierarchies). */
  controllers: string[];
  /** The calling process's cgroup in it, relative to its root. */
  ownPath: string;
  /** cgroup2: the caller's own cgroup is delegated to its (non-root) uid, so it may create children there. */
  delegated: boolean;
}

/** The host's cgroup layout. */
export interface CgroupLayout {
  /** `legacy` (v1 only), `hybrid` (v1 plus a cgroup2 mount) or `unified` (v2 only). */
  mode: CgroupMode;
  /** Every mounted hierarchy. */
  hierarchies: Hierarchy[];
  /** Whether the caller is in a cgroup namespace other than pid 1's (`undefined`: cannot tell). */
  cgroupNamespace?: boolean;
}

/** Detect the host's cgroup layout from `/proc/self/mountinfo` and `/proc/self/cgroup`. */
export function detect(): CgroupLayout {
  const l = call(() => native.detect());
  return {
    mode: l.mode as CgroupMode,
    hierarchies: l.hierarchies.map((h) => ({
      version: h.version as 1 | 2,
      mountPoint: h.mountPoint,
      controllers: h.controllers,
      ownPath: h.ownPath,
      delegated: h.delegated,
    })),
    ...(l.cgroupNamespace === undefined || l.cgroupNamespace === null ? {} : { cgroupNamespace: l.cgroupNamespace }),
  };
}

/**
 * Bytes of a {@link Size}, the one size vocabulary of every ctr package: a
 * whole number of bytes, or a string with an optional binary unit (`'512k'`,
 * `'5m'`, `'1.5g'`, `'64MiB'`, `'1GiB'`, `'100b'`: powers of 1024, any case),
 * or `'max'` / `-1` for unlimited (`-1` returned). Anything else throws
 * `ECGROUP_INVALID_VALUE` naming `field`. Strings are read by the Rust
 * parser (`units.rs`) every binding shares.
 */
export function parseSize(size: Size, field = 'size'): number {
  if (typeof size === 'number') {
    if (Number.isSafeInteger(size) && size >= -1) return size;
    throw new CgroupError({ code: CgroupCodes.InvalidValue, message: `${field}: invalid size ${size} (a whole number of bytes, or -1 for unlimited)`, path: field });
  }
  if (typeof size !== 'string') {
    throw new CgroupError({ code: CgroupCodes.InvalidValue, message: `${field}: invalid size ${String(size)} (use bytes or a unit: 512k, 5m, 1.5g, max)`, path: field });
  }
  return call(() => native.parseSize(size, field));
}

/** Check a resources object (throws the same coded errors as create) without touching the kernel. */
export function validateResources(resources: import('./options').Resources): void {
  call(() => native.validateResources(resources));
}
