import { CtrError, withNativeErrors } from '@ctr/common';
import type { SeccompErrorCode } from './codes';

/** Error thrown by `@ctr/seccomp`, with a stable `code` and, where the kernel refused, `errno`, `syscall` and `path`. */
export class SeccompError extends CtrError<SeccompErrorCode> {}

/** Run a native call, rethrowing its errors as {@link SeccompError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(SeccompError, fn);
