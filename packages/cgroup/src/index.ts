/**
 * Cgroups from Node: one API over cgroup v1, v2 and hybrid hosts.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { CgroupError } from './errors';

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
}

/** The host's cgroup layout. */
export interface CgroupLayout {
  /** `legacy` (v1 only), `hybrid` (v1 plus a cgroup2 mount) or `unified` (v2 only). */
  mode: CgroupMode;
  /** Every mounted hierarchy. */
  hierarchies: Hierarchy[];
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
    })),
  };
}
