/**
 * An OCI container runtime for Node.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { RuntimeError } from './errors';

/** Host facts the runtime depends on. */
export interface HostInfo {
  /** OCI runtime-spec version implemented. */
  ociVersion: string;
  /** Namespace types the kernel supports. */
  namespaces: string[];
  /** Cgroup layout: `legacy`, `hybrid` or `unified`. */
  cgroupMode: string;
}

/** Gather the host facts the runtime depends on. */
export function hostInfo(): HostInfo {
  return call(() => native.hostInfo());
}
