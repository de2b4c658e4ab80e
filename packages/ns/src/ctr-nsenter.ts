#!/usr/bin/env node
// ctr-nsenter: run a program in the namespaces of another process, like
// util-linux nsenter(1), on @ctr/ns.
import { differingNamespaces, nsPath } from './request';
import { NAMESPACE_TYPES, type NamespaceName, type NamespaceType, type SpawnOptions } from './options';
import { NAMESPACE_FLAGS, die, parseOrExit, runAndExit } from './cli/common';

const NAME = 'ctr-nsenter';
const HELP = `Usage: ${NAME} [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all                 enter all namespaces of the target that differ
 -t, --target <pid>        target process to get namespaces from
 -m, --mount[=<file>]      enter mount namespace
 -u, --uts[=<file>]        enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]        enter System V IPC namespace
 -n, --net[=<file>]        enter network namespace
 -p, --pid[=<file>]        enter pid namespace
 -C, --cgroup[=<file>]     enter cgroup namespace
 -U, --user[=<file>]       enter user namespace
 -T, --time[=<file>]       enter time namespace
 -S, --setuid <uid>        set uid in entered namespace
 -G, --setgid <gid>        set gid in entered namespace
 -w, --wd=<dir>            set the working directory (default / with --mount)
 -F, --no-fork             accepted for compatibility (a child is always made)
 -h, --help                display this help
`;

function main(): Promise<never> {
  const { opts, rest } = parseOrExit(NAME, HELP, [
    ...NAMESPACE_FLAGS.map(([long, short]) => ({ long, short, value: 'optional' as const })),
    { long: 'all', short: 'a' },
    { long: 'target', short: 't', value: true },
    { long: 'setuid', short: 'S', value: true },
    { long: 'setgid', short: 'G', value: true },
    { long: 'wd', short: 'w', value: true },
    { long: 'no-fork', short: 'F' },
  ]);
  const target = opts.has('target') ? Number(opts.get('target')) : undefined;
  if (target !== undefined && (!Number.isInteger(target) || target <= 0)) die(NAME, 'invalid --target pid');
  const join: Partial<Record<NamespaceName, string>> = {};
  const want = (kind: NamespaceType, v: string | true) => {
    if (v !== true) join[kind] = v;
    else if (target !== undefined) join[kind] = nsPath(kind, target);
    else die(NAME, `neither filename nor target pid supplied for ${kind}`);
  };
  if (opts.has('all')) {
    if (target === undefined) die(NAME, '--all needs --target');
    for (const k of differingNamespaces(target, NAMESPACE_TYPES) as NamespaceType[]) want(k, true);
  }
  for (const [long, , kind] of NAMESPACE_FLAGS) if (opts.has(long)) want(kind, opts.get(long)!);
  if (!Object.keys(join).length) die(NAME, 'no namespace specified');
  const o: SpawnOptions = { stdio: 'inherit', join };
  if (join.mnt) o.cwd = '/';
  if (opts.has('wd')) o.cwd = String(opts.get('wd'));
  if (opts.has('setuid')) o.uid = Number(opts.get('setuid'));
  if (opts.has('setgid')) o.gid = Number(opts.get('setgid'));
  return runAndExit(NAME, rest, o);
}

void main();
