// The spawner (ctr_ns::spawner; docs/architecture.md): container processes
// made by a small process started once per Node process, with CLONE_PARENT.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Container, gc, setSpawnMode, spawnMode, spawnerPid } from '../src/index';
import { snapshot, eventually } from '../../../test-support';
import { leftovers, readAll, ready, workspace } from './support';

const ws = workspace('spawner');
const { work, root } = ws;
const newId = ws.newId;

function bundle(args: string[]): string {
  return ws.bundle(args, {
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network' }, { type: 'ipc' }] },
  });
}

const ppidOf = (pid: number): number => Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

test.after(() => setSpawnMode('spawner'));

test('through the spawner: the init is a child of this Node process, in its namespaces and cgroup, from a sealed memfd, with no fd but 0-2', async () => {
  if (!ready('spawner container')) return;
  setSpawnMode('spawner');
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sh', '-c', 'ls /proc/$$/fd; readlink /proc/self/ns/net']), root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const spawner = spawnerPid();
    assert.ok(spawner, 'a spawner runs');
    assert.is(spawnMode(), 'spawner');
    // Made by the spawner, parented to Node: Node waits for it as before.
    assert.is(ppidOf(c.pid), process.pid);
    assert.is(ppidOf(spawner!), process.pid);
    // Until start the init is the exec helper the spawner's clone exec'd at
    // the end of its setup: a sealed memfd, never a host binary.
    assert.match(readlinkSync(`/proc/${c.pid}/exe`), /^\/memfd:ctr-exec/);
    assert.match(readlinkSync(`/proc/${spawner}/exe`), /^\/memfd:ctr-spawner/);
    assert.is(readFileSync(`/proc/${spawner}/comm`, 'utf8').trim(), 'ctr-spawner');
    assert.is(readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim(), 'ctr-init');
    // In the container's cgroup.
    const cg = await c.cgroup();
    try {
      assert.ok((await cg.pids()).includes(c.pid), 'the init is in the container cgroup');
    } finally {
      cg.close();
    }
    const out = readAll(c.stdout);
    await c.start();
    assert.equal(await c.wait(), { exitCode: 0, signal: null });
    const lines = (await out).trim().split('\n');
    assert.equal(lines.slice(0, -1).join(' ').split(/\s+/).sort(), ['0', '1', '2']);
    assert.is.not(lines.at(-1), readlinkSync('/proc/self/ns/net'));
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

/** Pids of the spawners whose parent is `parent` (running from the sealed memfd). */
function spawnersOf(parent: number): number[] {
  return readdirSync('/proc').flatMap((d) => {
    if (!/^\d+$/.test(d)) return [];
    try {
      return readlinkSync(`/proc/${d}/exe`).startsWith('/memfd:ctr-spawner') && alive(Number(d)) && ppidOf(Number(d)) === parent ? [Number(d)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}

/** Minor page faults so far of every spawner of this process. */
function spawnerFaults(): number {
  return spawnersOf(process.pid).reduce((sum, pid) => {
    try {
      return sum + Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]);
    } catch {
      return sum; // gone meanwhile
    }
  }, 0);
}

test('through the spawner: a container\'s clone shares the spawner\'s memory until it execs the helper, so no page of it is copied', async () => {
  if (!ready('spawner vfork')) return;
  setSpawnMode('spawner');
  const before = snapshot();
  const b = bundle(['true']);
  // Warm: the pool's spawners exist and have their pages.
  for (let i = 0; i < 3; i++) {
    const c = await Container.create({ id: newId(), bundle: b, root, stdio: 'ignore' });
    await c.delete({ force: true });
  }
  const faults0 = spawnerFaults();
  const inits: number[] = [];
  for (let i = 0; i < 10; i++) {
    const c = await Container.create({ id: newId(), bundle: b, root, stdio: 'ignore' });
    try {
      // Waiting for start in the sealed helper, named as before.
      assert.match(readlinkSync(`/proc/${c.pid}/exe`), /^\/memfd:ctr-exec/);
      assert.is(readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim(), 'ctr-init');
      inits.push(Number(readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]));
    } finally {
      await c.delete({ force: true });
    }
  }
  // A copy-on-write clone write-protects every page of the spawner: each
  // write of either side afterwards faults (about five a launch in the
  // spawner, fifty in the child, as measured before this clone). The
  // vfork-style clone shares them instead.
  const spawnerDelta = spawnerFaults() - faults0;
  assert.ok(spawnerDelta < 10, `the spawners made ${spawnerDelta} page faults for 10 launches`);
  assert.ok(Math.max(...inits) < 15, `page faults of the inits before start: ${inits.join(' ')}`);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('through the spawner: eight creates at once, exec into a running container, and the fork mode still there', async () => {
  if (!ready('spawner concurrency')) return;
  setSpawnMode('spawner');
  const before = snapshot();
  const ids = Array.from({ length: 8 }, () => newId());
  const b = bundle(['sh', '-c', 'echo $$']);
  const made = await Promise.allSettled(ids.map((id) => Container.create({ id, bundle: b, root, stdio: ['ignore', 'pipe', 'ignore'] })));
  const cs = made.flatMap((m) => (m.status === 'fulfilled' ? [m.value] : []));
  try {
    assert.equal(made.filter((m) => m.status === 'rejected'), []);
    const outs = cs.map((c) => readAll(c.stdout));
    await Promise.all(cs.map((c) => c.start()));
    assert.equal(await Promise.all(cs.map((c) => c.wait())), cs.map(() => ({ exitCode: 0, signal: null })));
    assert.equal(await Promise.all(outs), cs.map(() => '1\n'));
  } finally {
    await Promise.all(cs.map((c) => c.delete({ force: true })));
  }
  // exec joins a running container's namespaces through the spawner too.
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '100']), root, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await c.start();
    const p = await c.exec(['sleep', '100'], { stdio: ['ignore', 'pipe', 'ignore'] });
    // Read from the host, once it runs sleep: no fd but 0-2 crossed.
    assert.ok(await eventually(() => readlinkSync(`/proc/${p.pid}/exe`).endsWith('/busybox')), 'the exec runs sleep');
    assert.equal(readdirSync(`/proc/${p.pid}/fd`).sort(), ['0', '1', '2']);
    await p.kill('SIGKILL');
    assert.equal(await p.wait(), { exitCode: null, signal: 'SIGKILL' });
  } finally {
    await c.delete({ force: true });
  }
  // The fork of Node, chosen explicitly.
  setSpawnMode('fork');
  const f = await Container.create({ id: newId(), bundle: bundle(['true']), root, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    // The fork of Node also ends its setup in the exec helper: no copy of
    // Node's memory waits for start.
    assert.match(readlinkSync(`/proc/${f.pid}/exe`), /^\/memfd:ctr-exec/);
    assert.is(ppidOf(f.pid), process.pid);
    await f.start();
    assert.equal(await f.wait(), { exitCode: 0, signal: null });
  } finally {
    await f.delete({ force: true });
    setSpawnMode('spawner');
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('kill -9 of the Node process takes its spawner down; its container goes with gc()', async () => {
  if (!ready('spawner crash')) return;
  const before = snapshot();
  const id = newId();
  const script = join(work, `spawner-crash-${process.pid}.cjs`);
  writeFileSync(
    script,
    `const { Container, spawnerPid } = require(${JSON.stringify(resolve(__dirname, '../dist/index.cjs'))});
Container.create({ id: process.argv[3], bundle: process.argv[4], root: process.argv[2], stdio: ['ignore', 'ignore', 'ignore'] })
  .then((c) => c.start().then(() => { process.stdout.write(JSON.stringify({ spawner: spawnerPid(), init: c.pid }) + '\\n'); setInterval(() => {}, 1000); }));
`,
  );
  const p = spawn(process.execPath, [script, root, id, bundle(['sleep', '1000'])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CTR_SPAWN_MODE: '' } });
  const info = await new Promise<{ spawner: number; init: number }>((res, rej) => {
    let buf = '';
    p.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\n')) res(JSON.parse(buf));
    });
    p.once('exit', (code) => rej(new Error(`the API process exited ${code}`)));
  });
  assert.ok(info.spawner > 0 && alive(info.spawner));
  assert.is(ppidOf(info.init), p.pid);
  p.kill('SIGKILL');
  await new Promise((r) => p.once('close', r));
  assert.ok(await eventually(() => !alive(info.spawner)), `spawner ${info.spawner} outlived its Node process`);
  // Only the spawner's own fds were ever its: nothing of it is left.
  assert.equal(spawnersOf(p.pid!), []);
  const r = await gc(root);
  assert.equal(r.failed, []);
  assert.ok(r.removed.includes(id));
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test.run();
