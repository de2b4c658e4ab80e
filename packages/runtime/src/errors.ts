import { CtrError, withNativeErrors } from '@ctr/common';

/** Error thrown by `@ctr/runtime`, with a stable `code` and, where the kernel refused, `errno`, `syscall` and `path`. */
export class RuntimeError extends CtrError {}

/** Run a native call, rethrowing its errors as {@link RuntimeError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(RuntimeError, fn);
