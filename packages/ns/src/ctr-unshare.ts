#!/usr/bin/env node
// ctr-unshare: run a program in new namespaces, like util-linux unshare(1),
// on @ctr/ns (in-process clone3, no unshare binary involved).
import type { NamespaceType, SpawnOptions } from './options';
import { NAMESPACE_FLAGS, die, parseOrExit, runAndExit } from './cli/common';

const NAME = 'ctr-unshare';
const HELP = `Usage: ${NAME} [options] [<program> [<argument>...]]

Run a program with some namespaces unshared from the parent.

Options:
 -m, --mount               unshare mounts namespace
 -u, --uts                 unshare UTS namespace (hostname etc)
 -i, --ipc                 unshare System V IPC namespace
 -n, --net                 unshare network namespace
 -p, --pid                 unshare pid namespace
 -U, --user                unshare user namespace
 -C, --cgroup              unshare cgroup namespace
 -T, --time                unshare time namespace
 -f, --fork                fork before running <program> (always done)
     --mount-proc          mount proc filesystem first (implies --mount)
 -r, --map-root-user       map current user to root (implies --user)
     --map-user=<uid>      map current user to uid (implies --user)
     --map-group=<gid>     map current group to gid (implies --user)
     --monotonic <offset>  set clock monotonic offset (seconds) in time namespaces
     --boottime <offset>   set clock boottime offset (seconds) in time namespaces
 -R, --root=<dir>          run the command with root directory set to <dir> (pivot_root)
 -w, --wd=<dir>            change working directory to <dir>
 -S, --setuid <uid>        set uid in entered namespace
 -G, --setgid <gid>        set gid in entered namespace
     --hostname <name>     set the hostname (implies --uts)
 -h, --help                display this help
`;

function main(): Promise<never> {
  const { opts, rest } = parseOrExit(NAME, HELP, [
    ...NAMESPACE_FLAGS.map(([long, short]) => ({ long, short })),
    { long: 'fork', short: 'f' },
    { long: 'mount-proc' },
    { long: 'map-root-user', short: 'r' },
    { long: 'map-user', value: true },
    { long: 'map-group', value: true },
    { long: 'monotonic', value: true },
    { long: 'boottime', value: true },
    { long: 'root', short: 'R', value: true },
    { long: 'wd', short: 'w', value: true },
    { long: 'setuid', short: 'S', value: true },
    { long: 'setgid', short: 'G', value: true },
    { long: 'hostname', value: true },
  ]);
  const namespaces = new Set<NamespaceType>(NAMESPACE_FLAGS.filter(([long]) => opts.has(long)).map(([, , k]) => k));
  const num = (name: string) => {
    const v = Number(opts.get(name));
    if (!Number.isFinite(v)) die(NAME, `invalid --${name} value`);
    return v;
  };
  const o: SpawnOptions = { stdio: 'inherit' };
  if (opts.has('mount-proc')) {
    namespaces.add('mnt');
    o.mountProc = true;
  }
  const mapUser = opts.has('map-root-user') ? 0 : opts.has('map-user') ? num('map-user') : undefined;
  const mapGroup = opts.has('map-root-user') ? 0 : opts.has('map-group') ? num('map-group') : undefined;
  if (mapUser !== undefined || mapGroup !== undefined) {
    namespaces.add('user');
    if (mapUser !== undefined) o.uidMap = [{ containerID: mapUser, hostID: process.getuid!(), size: 1 }];
    if (mapGroup !== undefined) {
      o.gidMap = [{ containerID: mapGroup, hostID: process.getgid!(), size: 1 }];
      if (process.getuid!() !== 0) o.setgroups = 'deny';
    }
  }
  if (opts.has('monotonic') || opts.has('boottime')) {
    namespaces.delete('time'); // implied by the offsets
    o.timeOffsets = { monotonic: opts.has('monotonic') ? num('monotonic') : 0, boottime: opts.has('boottime') ? num('boottime') : 0 };
  }
  if (opts.has('hostname')) {
    namespaces.add('uts');
    o.hostname = String(opts.get('hostname'));
  }
  if (opts.has('root')) {
    namespaces.add('mnt');
    o.rootfs = { path: String(opts.get('root')), dev: false };
  }
  if (opts.has('wd')) o.cwd = String(opts.get('wd'));
  if (opts.has('setuid')) o.uid = num('setuid');
  if (opts.has('setgid')) o.gid = num('setgid');
  o.namespaces = [...namespaces];
  return runAndExit(NAME, rest, o);
}

void main();
