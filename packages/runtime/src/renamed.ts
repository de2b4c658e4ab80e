// Options renamed in the one-vocabulary pass (issue 19): an old spelling is
// refused with ERUNTIME_RENAMED_OPTION naming the new one, never silently
// accepted or ignored. Each entry stays until the next major version.
import { RuntimeError } from './errors';
import { RuntimeCodes } from './codes';

/** An option given under its old name: the code, and the message naming the new spelling. */
function renamed(path: string, now: string): RuntimeError {
  return new RuntimeError({ code: RuntimeCodes.RenamedOption, message: `${path}: renamed, use ${now}`, path });
}

/** Refuse the old spellings of a friendly container description. */
export function rejectRenamed(opts: object): void {
  if ('readonly' in opts && (opts as { readonly?: unknown }).readonly !== undefined) {
    throw renamed('readonly', 'rootfs: { path, readonly } (the rootfs is read-only by default)');
  }
}
