import { CtrError, withNativeErrors } from '@ctr/common';

/** Error thrown by `@ctr/netns`, with a stable `code` and, where the kernel refused, `errno`, `syscall` and `path`. */
export class NetnsError extends CtrError {}

/** Run a native call, rethrowing its errors as {@link NetnsError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(NetnsError, fn);
