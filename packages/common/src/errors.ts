import type { CommonErrorCode } from './codes';

/** The fields every ctr error carries; `C` is the union of its possible codes. */
export interface CtrErrorInit<C extends string = string> {
  /** Stable machine-readable code, e.g. `ENS_EXEC` (every code: docs/errors.md). */
  code: C | CommonErrorCode;
  /** Lower-case message naming the field or file at fault. */
  message: string;
  /** The errno the kernel returned, if any. */
  errno?: number;
  /** The system call (or step) that failed, if any. */
  syscall?: string;
  /** The file, JSON path or field at fault, if any. */
  path?: string;
}

/**
 * Base class of every error the ctr packages throw. Each package has its
 * own subclass (`NsError`, `CgroupError`, …) so callers can tell where an
 * error came from with `instanceof`, and all of them can be handled alike
 * through `code`, which each subclass types as the union of its codes
 * (generated from the Rust enums; every code is listed in docs/errors.md).
 */
export class CtrError<C extends string = string> extends Error {
  /** Stable machine-readable code, e.g. `ENS_EXEC`. Part of the API. */
  readonly code: C | CommonErrorCode;
  /** The errno the kernel returned, if any. */
  readonly errno?: number;
  /** The system call (or step) that failed, if any. */
  readonly syscall?: string;
  /** The file, JSON path or field at fault, if any. */
  readonly path?: string;

  constructor(init: CtrErrorInit<C>) {
    super(init.message);
    this.name = new.target.name;
    this.code = init.code;
    if (init.errno !== undefined) this.errno = init.errno;
    if (init.syscall !== undefined) this.syscall = init.syscall;
    if (init.path !== undefined) this.path = init.path;
  }
}

/** A constructor of a {@link CtrError} subclass. */
export type CtrErrorClass<E extends CtrError<string>> = new (init: CtrErrorInit<CodeOf<E>>) => E;

/** The code union `C` of a `CtrError<C>`. */
export type CodeOf<E> = E extends CtrError<infer C> ? C : never;

/** Marker the Rust side puts before the JSON form of an error. */
const PREFIX = '\u0001ctr-error:';

/**
 * Turn an error thrown by a native binding into an instance of `Class`.
 * Errors that did not come from ctr's Rust code are returned unchanged.
 */
export function decodeNativeError<E extends CtrError<string>>(err: unknown, Class: CtrErrorClass<E>): unknown {
  if (!(err instanceof Error)) return err;
  const at = err.message.indexOf(PREFIX);
  if (at < 0) return err;
  try {
    const init = JSON.parse(err.message.slice(at + PREFIX.length)) as CtrErrorInit<CodeOf<E>>;
    const decoded = new Class(init);
    return decoded;
  } catch {
    return err;
  }
}

/**
 * Call `fn` (sync or async) and rethrow native errors as `Class`.
 */
export function withNativeErrors<T, E extends CtrError<string>>(Class: CtrErrorClass<E>, fn: () => T): T {
  let result: T;
  try {
    result = fn();
  } catch (err) {
    throw decodeNativeError(err, Class);
  }
  if (result instanceof Promise) {
    return result.catch((err: unknown) => {
      throw decodeNativeError(err, Class);
    }) as T;
  }
  return result;
}
