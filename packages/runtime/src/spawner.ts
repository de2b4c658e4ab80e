import { existsSync } from 'node:fs';
import { native } from './native';

/**
 * How the in-process API makes a container's processes (its init, `exec`
 * processes, hooks):
 * - `'spawner'` (the default): a small process started once per Node
 *   process (this package's `ctrun`, copied into a sealed memfd) makes
 *   each `clone3` with `CLONE_PARENT`, so the process is still Node's child
 *   but is not a copy of Node's address space. Cheaper per container, and
 *   creates from several threads no longer wait on each other for Node's
 *   memory map. Concurrent creates start a few more (up to one per CPU,
 *   2 to 8; `CTR_NS_SPAWNERS` sets the most). They die with Node.
 * - `'fork'`: each process is a fork of Node (the earlier behaviour).
 *
 * The environment variable `CTR_SPAWN_MODE=fork` picks `'fork'` for a
 * process that never calls {@link setSpawnMode}.
 */
export type SpawnMode = 'spawner' | 'fork';

let chosen: SpawnMode | undefined;
let applied: string | undefined;

/** Choose how container processes are made from now on (see {@link SpawnMode}). */
export function setSpawnMode(mode: SpawnMode): void {
  if (mode !== 'spawner' && mode !== 'fork') throw new TypeError(`spawn mode must be 'spawner' or 'fork', not ${String(mode)}`);
  chosen = mode;
  applied = undefined;
}

/** The spawn mode in effect (see {@link SpawnMode}). */
export function spawnMode(): SpawnMode {
  return chosen ?? (process.env.CTR_SPAWN_MODE === 'fork' ? 'fork' : 'spawner');
}

/** The pid of the running spawner process (the oldest, when concurrent creates started several), if one was started. */
export function spawnerPid(): number | undefined {
  return native.spawnerPid() ?? undefined;
}

/** @internal Tell the addon the mode, once per change, before a spawn. */
export function applySpawnMode(ctrunPath: string): void {
  const mode = spawnMode();
  if (applied === mode) return;
  applied = mode;
  native.useSpawner(mode === 'spawner' && existsSync(ctrunPath) ? ctrunPath : null);
}
