import { signalError, signalName, signalNumberOf, type Signal } from '@ctr/common';
import { RuntimeError } from './errors';
import { RuntimeCodes } from './codes';

/** The number of a {@link Signal} given for `field`; `ERUNTIME_SIGNAL` (as `ctrun kill`) naming the field for an unknown one. */
export function signalNumber(sig: Signal, field = 'signal'): number {
  const n = signalNumberOf(sig);
  if (n === undefined) throw new RuntimeError({ code: RuntimeCodes.Signal, message: signalError(sig, field), path: field });
  return n;
}

export { signalName };
