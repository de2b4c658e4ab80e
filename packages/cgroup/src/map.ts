// The one module mapping user-facing values to the binding's plain ones.
import { signalError, signalNumberOf, type Signal } from '@ctr/common';
import { CgroupError } from './errors';
import type { CgroupOptions, CgroupStats } from './options';
import { CgroupCodes } from './codes';

/** The number of a {@link Signal} given for `field`; `ECGROUP_INVALID_VALUE` naming the field for an unknown one. */
export function signalNumber(sig: Signal, field = 'signal'): number {
  const n = signalNumberOf(sig);
  if (n === undefined) throw new CgroupError({ code: CgroupCodes.InvalidValue, message: signalError(sig, field), path: field });
  return n;
}

/** A pid argument. */
export function pidNumber(pid: number, field = 'pid'): number {
  if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError({ code: CgroupCodes.InvalidValue, message: `invalid ${field} ${String(pid)}`, path: field });
  return pid;
}

/** A cgroup path argument. */
export function pathString(path: string): string {
  if (typeof path !== 'string') throw new CgroupError({ code: CgroupCodes.InvalidPath, message: 'path must be a string', path: 'path' });
  return path;
}

/** Options for the binding. */
export function nativeOptions(o: CgroupOptions = {}): { backend?: string; controllers?: string[]; relativeTo?: string } {
  return { backend: o.backend, controllers: o.controllers, relativeTo: o.relativeTo };
}

/** The binding's stats (absent fields come as null) in the public shape (absent). */
export function statsFromNative(s: unknown): CgroupStats {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (o[k] === null) delete o[k];
        else if (typeof o[k] === 'object') strip(o[k]);
      }
    }
    return v;
  };
  return strip(s) as CgroupStats;
}
