import { CtrError, withNativeErrors } from '@ctr/common';
import type { NetnsErrorCode } from './codes';

/**
 * Error thrown by `@ctr/netns`. `code` is stable:
 *
 * - `ENETNS_INVALID_NAME`: a namespace, network or interface name is malformed (`path` names the field)
 * - `ENETNS_INVALID_SUBNET`, `ENETNS_INVALID_ADDRESS`, `ENETNS_INVALID_MAC`, `ENETNS_INVALID_PORT`,
 *   `ENETNS_INVALID_PID`, `ENETNS_INVALID_OPTION`: other malformed input
 * - `ENETNS_RENAMED_OPTION`: an option under its old name (`ports[0].host`); the message names the new one
 * - `ENETNS_SUBNET_OVERLAP`: the subnet overlaps another network or an address on the host
 * - `ENETNS_SUBNET_EXHAUSTED`: no free address left in the network
 * - `ENETNS_ADDRESS_IN_USE`, `ENETNS_PORT_IN_USE`: a requested address or host port is taken
 * - `ENETNS_EXISTS`: a namespace, network, link or address exists already
 * - `ENETNS_NOT_FOUND`, `ENETNS_NOT_NETNS`: no such namespace / the file is not a network namespace
 * - `ENETNS_LINK_NOT_FOUND`, `ENETNS_NETWORK_NOT_FOUND`, `ENETNS_LEASE_NOT_FOUND`: no such object
 * - `ENETNS_CLOSED`: the handle was closed
 * - `ENETNS_NETLINK`, `ENETNS_INVALID`, `ENETNS_PERMISSION`: the kernel refused a netlink request (`errno`)
 * - `ENETNS_NFT`, `ENETNS_NFT_NOT_FOUND`: libnftables refused a command
 * - `ENETNS_NFT_MISSING`: NAT or published ports were asked for on a host without `libnftables.so.1`
 *   (opened on first use, never linked); the message names the package to install
 * - `ENETNS_CREATE`, `ENETNS_DELETE`, `ENETNS_OPEN`, `ENETNS_SETNS`, `ENETNS_SYSCTL`, `ENETNS_STATE`:
 *   a system call failed (`syscall`, `errno`, `path`)
 */
export class NetnsError extends CtrError<NetnsErrorCode> {}

/** Run a native call, rethrowing its errors as {@link NetnsError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(NetnsError, fn);

/** Like {@link call} for calls returning a promise: synchronous throws become rejections. */
export const callAsync = async <T>(fn: () => Promise<T>): Promise<T> => withNativeErrors(NetnsError, fn);
