import { CtrError, withNativeErrors } from '@ctr/common';
import type { CgroupErrorCode } from './codes';

/** Error thrown by `@ctr/cgroup`, with a stable `code` and, where the kernel refused, `errno`, `syscall` and `path`. */
export class CgroupError extends CtrError<CgroupErrorCode> {}

/** Run a native call, rethrowing its errors as {@link CgroupError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(CgroupError, fn);
