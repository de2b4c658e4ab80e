/**
 * Shared pieces of the ctr packages.
 *
 * @packageDocumentation
 */
export { CtrError, decodeNativeError, withNativeErrors } from './errors';
export type { CtrErrorInit, CtrErrorClass, CodeOf } from './errors';
export { exitResult } from './exit';
export type { ExitResult, NativeExitInfo } from './exit';
export { CommonCodes } from './codes';
export type { CommonErrorCode } from './codes';
