import { constants as osConstants } from 'node:os';

/**
 * How a process ended: an exit code, or the signal that killed it. Both are
 * `null` for a process this one did not spawn (a container loaded from the
 * state store): only that it ended is known then.
 */
export interface ExitResult {
  /** Exit code, or `null` if killed by a signal (or not our child). */
  exitCode: number | null;
  /** The signal's name, or `null` if it exited (or not our child). */
  signal: NodeJS.Signals | null;
}

/** How a process ended as every native binding reports it (`ctr_napi::ExitInfo`). */
export interface NativeExitInfo {
  /** Exit code, if it exited. */
  exitCode?: number | null;
  /** Signal number, if it was killed by one. */
  signal?: number | null;
}

/** The name of signal `n` (`SIG<n>` when the platform has no name for it). */
function nameOf(n: number): NodeJS.Signals {
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (entry ? entry[0] : `SIG${n}`) as NodeJS.Signals;
}

/** A binding's exit info as the {@link ExitResult} every package returns. */
export function exitResult(info: NativeExitInfo): ExitResult {
  return {
    exitCode: info.exitCode ?? null,
    signal: info.signal !== undefined && info.signal !== null ? nameOf(info.signal) : null,
  };
}
