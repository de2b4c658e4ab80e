import { CtrError, withNativeErrors } from '@ctr/common';
import type { NsErrorCode } from './codes';

/**
 * Error thrown by `@ctr/ns`. `code` is stable:
 *
 * - `ENS_INVALID_OPTION`: an option is malformed (`path` names it)
 * - `ENS_UNKNOWN_NAMESPACE`: a namespace type that does not exist
 * - `ENS_CLONE`: the kernel refused to create the process or namespaces
 * - `ENS_EXEC`: the program could not be executed (`path` is the program)
 * - `ENS_CHDIR`, `ENS_HOSTNAME`, `ENS_MOUNT`, `ENS_SPAWN`: a setup step in
 *   the child failed (`syscall` names it, `errno` says why)
 * - `ENS_SECCOMP`: the kernel refused the seccomp filter (`errno` says
 *   why; `EACCES` without `noNewPrivileges` or `CAP_SYS_ADMIN`), or the
 *   listener fd could not be taken
 * - `ENS_NO_NEW_PRIVS`: setting no_new_privs failed
 * - `ENS_NOT_HELD`: `release()` on a child that is not held
 * - `ENS_KILL`, `ENS_WAIT`: signalling or waiting failed
 */
export class NsError extends CtrError<NsErrorCode> {}

/** Run a native call, rethrowing its errors as {@link NsError}. */
export const call = <T>(fn: () => T): T => withNativeErrors(NsError, fn);
