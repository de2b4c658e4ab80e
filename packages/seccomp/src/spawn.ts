import { spawn as nsSpawn, type NsChildProcess, type SpawnOptions as NsSpawnOptions } from '@ctr/ns';
import { NotificationListener } from './notify';
import { Profile } from './profile';
import type { CompileOptions, Program } from './options';

const NEW_LISTENER = 8;

/**
 * The `@ctr/ns` spawn options that install `program` in the child:
 * `seccomp`, `seccompFlags` (without `NEW_LISTENER`), `seccompListener`
 * when a rule notifies, and `noNewPrivileges` (default true; pass false
 * only for a child that keeps `CAP_SYS_ADMIN`).
 */
export function spawnOptions(program: Program, noNewPrivileges = true): Pick<NsSpawnOptions, 'seccomp' | 'seccompFlags' | 'seccompListener' | 'noNewPrivileges'> {
  return {
    seccomp: program.bpf,
    seccompFlags: program.flags & ~NEW_LISTENER,
    seccompListener: (program.flags & NEW_LISTENER) !== 0,
    noNewPrivileges,
  };
}

/** What {@link spawn} adds to the `@ctr/ns` spawn options. */
export interface FilterOptions {
  /** The profile (or a compiled program); default the built-in default profile. */
  profile?: Profile | Program;
  /** Compile options for a profile. */
  compile?: CompileOptions;
}

/** Options of {@link spawn}: `@ctr/ns` spawn options plus {@link FilterOptions}. */
export type SpawnOptions = NsSpawnOptions & FilterOptions;

/** A child spawned under a filter. */
export interface FilteredChild {
  /** The `@ctr/ns` child. */
  child: NsChildProcess;
  /** The compiled program it runs under. */
  program: Program;
  /** Requests of notify rules, or null when no rule notifies. */
  notifications: NotificationListener | null;
}

/**
 * Spawn a child (with `@ctr/ns`) under a seccomp profile: the filter is
 * installed in the child, last before exec, after `no_new_privs` — never
 * in this process. When the profile notifies, requests arrive on
 * `notifications` (answer them, or the calls block).
 */
export async function spawn(command: string, args: string[] = [], options: SpawnOptions = {}): Promise<FilteredChild> {
  const { profile, compile: copts, ...rest } = options;
  const program = profile === undefined ? await Profile.default().compile(copts) : profile instanceof Profile ? await profile.compile(copts) : profile;
  const child = nsSpawn(command, args, { ...rest, ...spawnOptions(program, rest.noNewPrivileges ?? true) });
  let notifications: NotificationListener | null = null;
  if (program.flags & NEW_LISTENER) {
    const fd = new Promise<number>((resolve, reject) => {
      if (child.seccompListenerFd !== null) return resolve(child.seccompListenerFd);
      child.once('seccomp-listener', resolve);
      child.spawned.then(() => (child.seccompListenerFd !== null ? resolve(child.seccompListenerFd) : reject(new Error('no listener fd'))), reject);
    });
    notifications = new NotificationListener(fd);
  }
  return { child, program, notifications };
}
