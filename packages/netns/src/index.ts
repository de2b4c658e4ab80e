/**
 * Network namespaces from Node.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { NetnsError } from './errors';

/** The caller's network namespace. */
export interface CurrentNetns {
  /** Inode of `/proc/self/ns/net`, which identifies the namespace. */
  inode: number;
  /** Interface names in it. */
  links: string[];
}

/** Describe the network namespace this process is in. */
export function current(): CurrentNetns {
  return call(() => native.current());
}
