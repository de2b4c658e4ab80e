import { constants as osConstants } from 'node:os';
import { RuntimeError } from './errors';

/** The number of a signal given by name or number. */
export function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = (osConstants.signals as Record<string, number>)[sig];
  if (n === undefined) throw new RuntimeError({ code: 'ERUNTIME_SIGNAL', message: `unknown signal ${sig}`, path: 'signal' });
  return n;
}

/** The name of a signal number (`SIG<n>` when unknown). */
export function signalName(n: number): NodeJS.Signals {
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (entry ? entry[0] : `SIG${n}`) as NodeJS.Signals;
}
