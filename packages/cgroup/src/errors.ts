import { CtrError, withNativeErrors } from '@ctr/common';

/** Error thrown by `@ctr/cgroup`, with a stable `code` and, where the kernel refused, `errno`, `syscall` and `path`. */
export class CgroupError extends CtrError {}

/** Run a native call, rethrowing its errors as {@link CgroupError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(CgroupError, fn);
