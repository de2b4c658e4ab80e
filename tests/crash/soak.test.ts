// Soak: 1,000 container lifecycles through `ctrun`, a few at a time,
// mixing the ways a lifecycle ends — success, a failing prestart hook, a
// mount that cannot be made, an OOM kill, `kill -9` of the container's init
// — each checked for its own outcome, then nothing of any of them may be
// left (processes, cgroups in every hierarchy, mounts, netns, links, nft
// tables, state). CTR_SOAK_RUNS sets the count; in the TCG guests of
// test-vms it is 60 (every ctrun call there is 5-25x slower).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from './support';
import { hostLeftovers, isRoot, rootSubtreeControl, seededRandom, skip, vmProfile } from '../../test-support';

const repo = resolve(__dirname, '../..');
const ctrun = join(repo, 'packages/runtime/bin/ctrun');
const rootfs = join(repo, '.cache/rootfs/busybox');
const PREFIX = `ctrsoak${process.pid}`;
const runs = Number(process.env.CTR_SOAK_RUNS ?? (vmProfile() ? 60 : 1000));
const workers = 4;

type Kind = 'success' | 'failing hook' | 'failing mount' | 'oom kill' | 'kill -9 init';
const KINDS: Kind[] = ['success', 'failing hook', 'failing mount', 'oom kill', 'kill -9 init'];

test(`soak: ${runs} lifecycles mixing success, failing hooks, failing mounts, OOM kills and kill -9 of the init leave nothing behind`, async () => {
  if (!isRoot) return skip('soak', 'needs root');
  if (!existsSync(join(rootfs, 'bin/busybox'))) return skip('soak', 'no busybox rootfs (scripts/make-rootfs.sh)');
  if (!existsSync(ctrun)) return skip('soak', `no ${ctrun} (pnpm run build)`);
  const subtreeBefore = rootSubtreeControl();
  const work = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
  const root = join(work, 'state');
  const base = (args: string[], extra: Record<string, unknown> = {}, linux: Record<string, unknown> = {}) => ({
    ociVersion: '1.2.0',
    root: { path: rootfs },
    process: { cwd: '/', args, env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }], ...linux },
    ...extra,
  });
  const bundles: Record<Kind, string> = {} as Record<Kind, string>;
  const configs: Record<Kind, unknown> = {
    success: base(['true']),
    'failing hook': base(['true'], { hooks: { prestart: [{ path: '/bin/false' }] } }),
    'failing mount': base(['true'], {
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/data', type: 'bind', source: join(work, 'no-such-dir'), options: ['rbind'] }],
    }),
    // The shell doubles a string until the 16 MiB limit kills it.
    'oom kill': base(['sh', '-c', 'a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done'], {}, { resources: { memory: { limit: 16 * 1024 * 1024 } } }),
    'kill -9 init': base(['sleep', '1000']),
  };
  for (const k of KINDS) {
    bundles[k] = join(work, k.replace(/\W+/g, '-'));
    mkdirSync(bundles[k]);
    writeFileSync(join(bundles[k], 'config.json'), JSON.stringify(configs[k]));
  }
  const ct = (...args: string[]) => run(ctrun, ['--root', root, ...args]);
  const rand = seededRandom(Number(process.env.CTR_SOAK_SEED ?? 1));
  const plan: Kind[] = Array.from({ length: runs }, () => KINDS[Math.floor(rand() * KINDS.length)]);
  const done: Record<Kind, number> = { success: 0, 'failing hook': 0, 'failing mount': 0, 'oom kill': 0, 'kill -9 init': 0 };
  const failures: string[] = [];
  let next = 0;
  const lifecycle = async (i: number, kind: Kind): Promise<void> => {
    const id = `${PREFIX}-${i}`;
    const b = bundles[kind];
    if (kind === 'kill -9 init') {
      const c = await ct('run', '-d', '--bundle', b, id);
      if (c.code !== 0) throw new Error(`run -d: ${c.out}`);
      const k = await ct('kill', id, 'KILL');
      if (k.code !== 0) throw new Error(`kill: ${k.out}`);
      // Stopped once the init is gone; then a plain delete.
      for (let t = 0; t < 500; t++) {
        if ((await ct('state', id)).out.includes('"stopped"')) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const d = await ct('delete', id);
      if (d.code !== 0) throw new Error(`delete: ${d.out}`);
      return;
    }
    const r = await ct('run', '--bundle', b, id);
    const expect = { success: [0, ''], 'failing hook': [1, 'ERUNTIME_HOOK'], 'failing mount': [1, 'ERUNTIME_'], 'oom kill': [137, ''] }[kind];
    if (r.code !== expect[0] || !r.out.includes(expect[1] as string)) throw new Error(`run exited ${r.code}, expected ${expect[0]} ${expect[1]}: ${r.out}`);
    if (existsSync(join(root, id))) throw new Error('state left after run');
  };
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const i = next++;
      try {
        await lifecycle(i, plan[i]);
        done[plan[i]]++;
      } catch (e) {
        failures.push(`#${i} ${plan[i]}: ${(e as Error).message}`);
        await ct('delete', '--force', `${PREFIX}-${i}`);
      }
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: workers }, worker));
  const left = hostLeftovers(PREFIX, { stateRoots: [root] });
  process.stdout.write(
    `\nsoak: ${runs} lifecycles in ${((Date.now() - t0) / 1000).toFixed(1)} s with ${workers} workers${vmProfile() ? ` (scaled down in the ${vmProfile()} guest)` : ''}: ` +
      `${KINDS.map((k) => `${done[k]} ${k}`).join(', ')}; ${failures.length} failed; leftovers = ${left.length}\n`,
  );
  rmSync(work, { recursive: true, force: true });
  assert.equal(failures, [], failures.slice(0, 5).join('\n'));
  assert.equal(left, [], left.join('\n'));
  assert.is(rootSubtreeControl(), subtreeBefore, 'the cgroup2 root subtree_control changed');
});

test.run();
