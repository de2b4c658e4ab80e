// Shared by ctr-unshare and ctr-nsenter: run the child with inherited
// stdio and exit like it.
import { spawn, type NsChildProcess } from '../spawn';
import type { NamespaceType, SpawnOptions } from '../options';
import { parseArgs, type OptSpec, type Parsed } from './args';
import { NsCodes } from '../codes';

/** util-linux's namespace flags: long name, short letter, namespace. */
export const NAMESPACE_FLAGS: ReadonlyArray<readonly [string, string, NamespaceType]> = [
  ['mount', 'm', 'mnt'],
  ['uts', 'u', 'uts'],
  ['ipc', 'i', 'ipc'],
  ['net', 'n', 'net'],
  ['pid', 'p', 'pid'],
  ['user', 'U', 'user'],
  ['cgroup', 'C', 'cgroup'],
  ['time', 'T', 'time'],
];

/** Parse the command line; usage errors exit 1, `--help` prints `help` and exits 0. */
export function parseOrExit(name: string, help: string, specs: OptSpec[]): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs(process.argv.slice(2), [...specs, { long: 'help', short: 'h' }]);
  } catch (e) {
    die(name, (e as Error).message);
  }
  if (parsed.opts.has('help')) {
    process.stdout.write(help);
    process.exit(0);
  }
  return parsed;
}

/** Spawn the rest of the command line (or `$SHELL`) with `o`, then exit like it. */
export function runAndExit(name: string, rest: string[], o: SpawnOptions): Promise<never> {
  const [cmd, ...args] = rest.length ? rest : [process.env.SHELL || '/bin/sh'];
  let child;
  try {
    child = spawn(cmd, args, o);
  } catch (e) {
    die(name, (e as Error).message);
  }
  return relay(name, child);
}

/** Wait for `child`, relaying SIGTERM/SIGHUP, and exit with its status. */
export async function relay(name: string, child: NsChildProcess): Promise<never> {
  // Ctrl-C reaches the child through the terminal's process group.
  process.on('SIGINT', () => undefined);
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void child.kill(sig).catch(() => undefined));
  try {
    const { exitCode, signal } = await child.exited;
    process.exit(signal ? 128 + (require('node:os').constants.signals[signal] as number) : exitCode ?? 1);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    process.stderr.write(`${name}: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ''}\n`);
    process.exit(err.code === NsCodes.Exec ? 127 : 1);
  }
}

/** Print an error and exit 1 (usage errors). */
export function die(name: string, msg: string): never {
  process.stderr.write(`${name}: ${msg}\nTry '${name} --help' for more information.\n`);
  process.exit(1);
}
