// Shared by this package's suites: the busybox rootfs, a scratch folder
// with a state root per test file, container ids, and the leftover check.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CTRUN_PATH } from '../src/index';
import { isRoot, leftovers as allLeftovers, skip, type Snapshot } from '../../../test-support';

/** The busybox rootfs scripts/setup.sh builds. */
export const rootfs = resolve(__dirname, '../../../.cache/rootfs/busybox');

/** Every kernel object and path these suites make starts with this. */
const PREFIX = 'ctrtest-runtime';

/**
 * Leftovers since `before` (mounts, child processes, fds). Other suites run
 * concurrently on this host: only mounts of ours count.
 */
export function leftovers(before: Snapshot): string[] {
  return allLeftovers(before)
    .map((p) => (p.startsWith('mounts left') ? p.split(', ').filter((m) => m.includes(PREFIX)).join(', ') : p))
    .filter((p) => p && !/^mounts left: ?$/.test(p));
}

/** One test file's scratch space. */
export interface Workspace {
  /** A fresh folder under the system tmpdir. */
  work: string;
  /** The state root (`--root`) inside it. */
  root: string;
  /** A container id unique to this process and call. */
  newId(): string;
  /**
   * A new bundle folder in the workspace whose config.json is the busybox
   * base (`ociVersion`, `root` = {@link rootfs}, a root `process` running
   * `args` with PATH=/bin) with `config`'s top-level fields over it.
   */
  bundle(args: string[], config: Record<string, unknown>): string;
  /** Remove the folder. */
  remove(): void;
}

/** A workspace whose folder and ids are `ctrtest-runtime-<tag>-<pid>-...`. */
export function workspace(tag: string): Workspace {
  const work = mkdtempSync(join(tmpdir(), `${PREFIX}-${tag}-${process.pid}-`));
  let n = 0;
  let b = 0;
  return {
    work,
    root: join(work, 'state'),
    newId: () => `${PREFIX}-${tag}-${process.pid}-${n++}`,
    bundle: (args, config) => {
      const dir = join(work, `bundle-${b++}`);
      mkdirSync(dir);
      const base = { ociVersion: '1.2.0', root: { path: rootfs }, process: { cwd: '/', args, env: ['PATH=/bin'], user: { uid: 0, gid: 0 } } };
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base, ...config }));
      return dir;
    },
    remove: () => rmSync(work, { recursive: true, force: true }),
  };
}

/** Whether a container test can run here; prints a stated skip when not. */
export function ready(name: string): boolean {
  if (!isRoot) return (skip(name, 'needs root'), false);
  if (!existsSync(join(rootfs, 'bin/busybox'))) return (skip(name, 'no busybox rootfs (scripts/make-rootfs.sh)'), false);
  if (!existsSync(CTRUN_PATH)) return (skip(name, `no ${CTRUN_PATH} (pnpm run build)`), false);
  return true;
}

/** Everything a stream gives until it ends, as text ('' for no stream). */
export async function readAll(s: NodeJS.ReadableStream | null): Promise<string> {
  if (!s) return '';
  let out = '';
  for await (const chunk of s) out += chunk.toString();
  return out;
}
