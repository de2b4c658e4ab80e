/**
 * Network namespaces from Node: named (iproute2-compatible) and anonymous
 * namespaces, links, addresses and routes over netlink, and bridged
 * networks with NAT and published ports over nftables.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { NetnsError } from './errors';
export { NetnsCodes } from './codes';
export type { NetnsErrorCode } from './codes';
export type { CommonErrorCode } from '@ctr/common';
export { NetNS, loopbackOnly, type NetNSRef } from './netns';
export { BridgeNetwork } from './network';
export { parsePorts } from './ports';
export type * from './options';

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
