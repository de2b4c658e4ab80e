// Where the native calls run (ctr_napi::uv_promise): create, start and delete
// on libuv's thread pool, at most half of it, so Node's own fs work is never
// starved by containers whose create waits (here: on a slow hook).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container } from '../src/index';
import { snapshot, eventually, hostLeftovers } from '../../../test-support';
import { leftovers, ready, workspace } from './support';

const ws = workspace('pool');
const { work, root } = ws;
/** Every kernel object and state entry this file makes is named so. */
const prefix = `ctrtest-runtime-pool-${process.pid}-`;

/**
 * Remove whatever the store still lists (a create that finished after a
 * failed assertion, or one a killed run left `creating`): the store records
 * a container before its cgroup exists, so a forced delete finds it all.
 */
async function removeListed(store = root): Promise<void> {
  if (!existsSync(store)) return;
  const listed = await Container.list(store).catch(() => []);
  await Promise.allSettled(listed.map((s) => Container.load(s.id, store).then((c) => c.delete({ force: true }))));
}

/**
 * A run of this file that was killed (its process gone) could not clean
 * up: remove what its store lists, then its workspace. Runs still alive
 * (in parallel) are left alone.
 */
async function removeKilledRuns(): Promise<void> {
  for (const d of readdirSync(tmpdir())) {
    const m = /^ctrtest-runtime-pool-(\d+)-/.exec(d);
    if (!m || Number(m[1]) === process.pid || existsSync(`/proc/${m[1]}`)) continue;
    await removeListed(join(tmpdir(), d, 'state'));
    rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
}

test.before(removeKilledRuns);

test.after(async () => {
  await removeListed();
  ws.remove();
});

test("four creates blocked in a hook leave libuv's pool to Node's fs", async () => {
  if (!ready('pool')) return;
  const before = snapshot();
  const flag = join(work, 'release');
  const started = join(work, 'started');
  writeFileSync(join(work, 'data'), 'fs still answers');
  mkdirSync(started);
  // The hook runs inside create (on the host) until the flag appears, or
  // until the runtime that started it (this process) is gone.
  const b = ws.bundle(['true'], {
    hooks: { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${started}/$$; while [ ! -e ${flag} ] && kill -0 $PPID 2>/dev/null; do sleep 0.02; done`], timeout: 60 }] },
  });
  // libuv's default pool: 4 threads. Four creates at once.
  const ids = Array.from({ length: 4 }, () => ws.newId());
  const made = Promise.allSettled(ids.map((id) => Container.create({ id, bundle: b, root, stdio: 'ignore' })));
  let cs: Container[] = [];
  try {
    try {
      assert.ok(await eventually(() => readdirSync(started).length === 4, 20_000), 'all four hooks run');
      // Every create is blocked in its hook now; a file read still completes.
      const read = readFile(join(work, 'data'), 'utf8');
      const late = new Promise((r) => setTimeout(() => r('blocked'), 5_000));
      assert.is(await Promise.race([read, late]), 'fs still answers');
    } finally {
      // Pass or fail, release the hooks: every pending create ends, and
      // what it made is deleted below.
      writeFileSync(flag, '');
    }
    const settled = await made;
    cs = settled.flatMap((m) => (m.status === 'fulfilled' ? [m.value] : []));
    assert.equal(settled.filter((m) => m.status === 'rejected'), []);
    await Promise.all(cs.map((c) => c.start()));
    assert.equal(await Promise.all(cs.map((c) => c.wait())), cs.map(() => ({ exitCode: 0, signal: null })));
  } finally {
    // On the failure path the creates may still be pending: wait for each,
    // then delete every container made, and anything the store still lists.
    writeFileSync(flag, '');
    const settled = await made;
    cs = settled.flatMap((m) => (m.status === 'fulfilled' ? [m.value] : []));
    await Promise.allSettled(cs.map((c) => c.delete({ force: true })));
    await removeListed();
  }
  assert.ok(!existsSync(join(root, ids[0])), 'state removed');
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
  // No cgroup (any hierarchy), mount, process or state entry of these containers.
  const host = () => hostLeftovers(prefix, { stateRoots: [root], skipNft: true });
  assert.ok(await eventually(() => host().length === 0), host().join('; '));
});

test.run();
