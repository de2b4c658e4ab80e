// One signal vocabulary for every ctr package (the same set `ctrun kill`
// accepts): a name with or without `SIG`, in any case, or a number 1-64.
import { constants } from 'node:os';

/** `'TERM'` for `'SIGTERM'`: the short spelling of a signal name. */
export type ShortSignalName<S extends string = NodeJS.Signals> = S extends `SIG${infer Rest}` ? Rest : never;

/**
 * A signal as every ctr API takes it: `'SIGTERM'`, `'TERM'` (names are
 * matched without regard to case, as `kill(1)` and `ctrun kill` do) or a
 * number from 1 to 64 (`SIGRTMAX`).
 */
export type Signal = NodeJS.Signals | ShortSignalName | number;

/** The highest signal number Linux has (`SIGRTMAX`). */
export const MAX_SIGNAL = 64;

const NUMBERS = constants.signals as Record<string, number>;

/**
 * The number of a {@link Signal}, or `undefined` if it is not one (the
 * caller throws its package's coded error naming the field; see
 * {@link signalError}).
 */
export function signalNumberOf(sig: unknown): number | undefined {
  if (typeof sig === 'number') return Number.isInteger(sig) && sig >= 1 && sig <= MAX_SIGNAL ? sig : undefined;
  if (typeof sig !== 'string') return undefined;
  const upper = sig.toUpperCase();
  return NUMBERS[upper.startsWith('SIG') ? upper : `SIG${upper}`];
}

/** The message of an unknown-signal error on `field`. */
export function signalError(sig: unknown, field: string): string {
  const shown = typeof sig === 'string' ? JSON.stringify(sig) : String(sig);
  return `${field}: unknown signal ${shown} (expected a name such as 'SIGTERM' or 'TERM', or a number from 1 to ${MAX_SIGNAL})`;
}

/** The name of a signal number, `'SIGTERM'` (`SIG<n>` for one Node has no name for, e.g. a real-time signal). */
export function signalName(n: number): NodeJS.Signals {
  const entry = Object.entries(NUMBERS).find(([, v]) => v === n);
  return (entry ? entry[0] : `SIG${n}`) as NodeJS.Signals;
}
