/**
 * Shared pieces of the ctr packages.
 *
 * @packageDocumentation
 */
export { CtrError, decodeNativeError, withNativeErrors } from './errors';
export type { CtrErrorInit, CtrErrorClass, CodeOf } from './errors';
export { MAX_SIGNAL, signalError, signalName, signalNumberOf } from './signals';
export type { ShortSignalName, Signal } from './signals';
export { exitResult } from './exit';
export type { ExitResult, NativeExitInfo } from './exit';
export type { CommonErrorCode } from './codes';
