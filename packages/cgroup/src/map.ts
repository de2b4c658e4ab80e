// The one module mapping user-facing values to the binding's plain ones.
import { constants } from 'node:os';
import { CgroupError } from './errors';
import type { CgroupOptions, CgroupStats } from './options';

/** Signal name or number to a number. */
export function signalNumber(sig: NodeJS.Signals | number, field = 'signal'): number {
  if (typeof sig === 'number' && Number.isInteger(sig) && sig > 0 && sig < 65) return sig;
  const n = typeof sig === 'string' ? (constants.signals as Record<string, number>)[sig] : undefined;
  if (n === undefined) throw new CgroupError({ code: 'ECGROUP_INVALID_VALUE', message: `invalid signal ${String(sig)}`, path: field });
  return n;
}

/** A pid argument. */
export function pidNumber(pid: number, field = 'pid'): number {
  if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError({ code: 'ECGROUP_INVALID_VALUE', message: `invalid ${field} ${String(pid)}`, path: field });
  return pid;
}

/** A cgroup path argument. */
export function pathString(path: string): string {
  if (typeof path !== 'string') throw new CgroupError({ code: 'ECGROUP_INVALID_PATH', message: 'path must be a string', path: 'path' });
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
