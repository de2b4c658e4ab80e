/**
 * Shared pieces of the ctr packages.
 *
 * @packageDocumentation
 */
export { CtrError, decodeNativeError, withNativeErrors } from './errors';
export type { CtrErrorInit, CtrErrorClass } from './errors';
