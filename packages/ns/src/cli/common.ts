// Shared by ctr-unshare and ctr-nsenter: run the child with inherited
// stdio and exit like it.
import type { NsChildProcess } from '../spawn';

/** Wait for `child`, relaying SIGTERM/SIGHUP, and exit with its status. */
export async function relay(name: string, child: NsChildProcess): Promise<never> {
  // Ctrl-C reaches the child through the terminal's process group.
  process.on('SIGINT', () => undefined);
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  try {
    const { exitCode, signal } = await child.exited;
    process.exit(signal ? 128 + (require('node:os').constants.signals[signal] as number) : exitCode ?? 1);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    process.stderr.write(`${name}: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ''}\n`);
    process.exit(err.code === 'ENS_EXEC' ? 127 : 1);
  }
}

/** Print an error and exit 1 (usage errors). */
export function die(name: string, msg: string): never {
  process.stderr.write(`${name}: ${msg}\nTry '${name} --help' for more information.\n`);
  process.exit(1);
}
