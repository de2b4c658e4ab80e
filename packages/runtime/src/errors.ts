import { CtrError, withNativeErrors } from '@ctr/common';
import type { CgroupErrorCode } from '@ctr/cgroup';
import type { NetnsErrorCode } from '@ctr/netns';
import type { NsErrorCode } from '@ctr/ns';
import type { SeccompErrorCode } from '@ctr/seccomp';
import type { OciErrorCode, RuntimeErrorCode } from './codes';

/**
 * Every code a {@link RuntimeError} can carry: the runtime's own, the OCI
 * config's, and those of the packages it builds on, passed on unchanged.
 */
export type AnyRuntimeErrorCode = RuntimeErrorCode | OciErrorCode | NsErrorCode | CgroupErrorCode | SeccompErrorCode | NetnsErrorCode;

/** Error thrown by `@ctr/runtime`, with a stable `code` and, where the kernel refused, `errno`, `syscall` and `path`. */
export class RuntimeError extends CtrError<AnyRuntimeErrorCode> {}

/** Run a native call, rethrowing its errors as {@link RuntimeError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(RuntimeError, fn);
