// One API vocabulary (issue 19): kill and stop({ timeout }), signal
// spellings, the rootfs read-only by default or an overlay per container,
// one code for a program that cannot be executed, old spellings refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container, DEFAULT_STOP_TIMEOUT, RuntimeError, configFor, gc, run } from '../src/index';
import { skip, snapshot, eventually } from '../../../test-support';
import { leftovers, readAll, ready, rootfs, workspace } from './support';

const ws = workspace('vocab');
const { root, newId } = ws;
const tempBundles = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`ctr-run-${process.pid}-`));
const overlayMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`ctr-run-${process.pid}-`));

/** Resolves with the first line a stream prints. */
function firstLine(s: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((res) => {
    let buf = '';
    s!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) res(buf.split('\n')[0]);
    });
  });
}

const rejects = async (p: Promise<unknown>, code: string, field: string, re?: RegExp) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  assert.instance(e, RuntimeError, `expected ${code}`);
  assert.is((e as RuntimeError).code, code);
  assert.is((e as RuntimeError).path, field);
  if (re) assert.match((e as RuntimeError).message, re);
};

test('stop: an init that traps SIGTERM is SIGKILLed after the timeout', async () => {
  if (!ready('stop timeout')) return;
  const before = snapshot();
  const c = await Container.create({ id: newId(), root, rootfs, args: ['sh', '-c', 'trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done'], stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const out = readAll(c.stdout);
    const ready = firstLine(c.stdout);
    await c.start();
    assert.is(await ready, 'ready');
    const t0 = Date.now();
    const r = await c.stop({ timeout: 400 });
    assert.equal(r, { exitCode: null, signal: 'SIGKILL' });
    assert.ok(Date.now() - t0 >= 390, 'SIGKILL only once the timeout passed');
    assert.match(await out, /got TERM/, 'SIGTERM was sent first');
    assert.is((await c.state()).status, 'stopped');
    assert.is(await c.kill(), false, 'kill of a stopped container resolves false');
    assert.equal(await c.stop(), r, 'stop of a stopped container resolves with its exit at once');
  } finally {
    await c.delete({ force: true });
  }
  assert.equal(tempBundles(), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('stop: an init that exits on SIGTERM stops early with its own exit', async () => {
  if (!ready('stop early')) return;
  const before = snapshot();
  assert.is(DEFAULT_STOP_TIMEOUT, 10_000);
  const c = await Container.create({ id: newId(), root, rootfs, args: ['sh', '-c', 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done'], stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const ready = firstLine(c.stdout);
    await c.start();
    assert.is(await ready, 'ready');
    assert.equal(await c.stop({ timeout: 60_000 }), { exitCode: 3, signal: null });
    // 'TERM' and 'sigterm' are SIGTERM too; the escalation is the init's own exit here.
  } finally {
    await c.delete({ force: true });
  }
  await rejects(c.stop({ timeout: -1 }), 'ERUNTIME_INVALID_OPTION', 'timeout');
  await rejects(c.stop({ timeoutMs: 5000 } as never), 'ERUNTIME_INVALID_OPTION', 'timeoutMs', /unknown option of stop/);
  await rejects(c.kill('TERM', { all: 'yes' } as never), 'ERUNTIME_INVALID_OPTION', 'all');
  await rejects(c.kill('TERM', { everything: true } as never), 'ERUNTIME_INVALID_OPTION', 'everything');
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('stop of a created (never started) container kills the init at the gate; Symbol.asyncDispose deletes (await using)', async () => {
  if (!ready('stop created')) return;
  const before = snapshot();
  const c = await Container.create({ id: newId(), root, rootfs, args: ['sleep', '100'], stdio: 'ignore' });
  try {
    assert.equal(await c.stop({ timeout: 200 }), { exitCode: null, signal: 'SIGKILL' }, 'an init without a TERM handler ignores SIGTERM: SIGKILL after the timeout');
    assert.is((await c.state()).status, 'stopped');
  } finally {
    await c[Symbol.asyncDispose]();
  }
  assert.not.ok(existsSync(join(root, c.id)), 'asyncDispose deleted the container');
  const d = await Container.create({ id: newId(), root, rootfs, args: ['sleep', '100'], stdio: 'ignore' });
  try {
    await d.start();
    const p = await d.exec(['sleep', '100'], { stdio: 'ignore' });
    await p[Symbol.asyncDispose]();
    assert.equal(await p.wait(), { exitCode: null, signal: 'SIGKILL' }, 'asyncDispose of an exec kills and reaps it');
    await d[Symbol.asyncDispose]();
    assert.not.ok(existsSync(join(root, d.id)), 'asyncDispose of a running container kills and deletes it');
  } finally {
    await d.delete({ force: true }).catch(() => undefined);
  }
  assert.equal(tempBundles(), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('signals: one spelling set (SIGTERM, TERM, any case, 1-64) and a coded error naming the field', async () => {
  if (!ready('signal spellings')) return;
  const before = snapshot();
  const c = await Container.create({ id: newId(), root, rootfs, args: ['sh', '-c', 'trap "exit 5" USR1; trap "exit 6" TERM; echo ready; while :; do sleep 0.1; done'], stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const ready = firstLine(c.stdout);
    await c.start();
    assert.is(await ready, 'ready');
    await rejects(c.kill('SIGNOPE' as 'SIGTERM'), 'ERUNTIME_SIGNAL', 'signal', /unknown signal "SIGNOPE".*'TERM'/);
    await rejects(c.kill(0), 'ERUNTIME_SIGNAL', 'signal');
    await rejects(c.kill(65), 'ERUNTIME_SIGNAL', 'signal');
    await rejects(c.stop({ signal: 'NOPE' as 'TERM' }), 'ERUNTIME_SIGNAL', 'signal');
    assert.is((await c.state()).status, 'running', 'refused signals changed nothing');
    assert.is(await c.kill('usr1' as 'USR1'), true);
    assert.equal(await c.wait(), { exitCode: 5, signal: null });
  } finally {
    await c.delete({ force: true });
  }
  const d = await Container.create({ id: newId(), root, rootfs, args: ['sh', '-c', 'trap "exit 6" TERM; echo ready; while :; do sleep 0.1; done'], stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const ready = firstLine(d.stdout);
    await d.start();
    assert.is(await ready, 'ready');
    const p = await d.exec(['sleep', '100'], { stdio: 'ignore' });
    await rejects(p.kill('SIGNOPE' as 'SIGTERM'), 'ERUNTIME_SIGNAL', 'signal');
    assert.is(await p.kill(9), true, 'numbers are signals');
    assert.equal(await p.wait(), { exitCode: null, signal: 'SIGKILL' });
    assert.is(await p.kill('TERM'), false, 'an exec that ended: false, as Container and NsChildProcess');
    assert.is(await d.kill('TERM'), true);
    assert.equal(await d.wait(), { exitCode: 6, signal: null });
  } finally {
    await d.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('rootfs: read-only by default (a fresh /tmp still writable), host directory untouched', async () => {
  if (!ready('rootfs read-only default')) return;
  const before = snapshot();
  const mark = `ctrtest-vocab-${process.pid}-default`;
  const r = await run({ id: newId(), root, rootfs, args: ['sh', '-c', `touch /${mark} 2>&1; echo rc=$?; echo x > /tmp/${mark} && cat /tmp/${mark}`] });
  assert.match(r.stdout, /Read-only file system/);
  assert.match(r.stdout, /rc=1\nx\n/);
  assert.not.ok(existsSync(join(rootfs, mark)));
  assert.not.ok(existsSync(join(rootfs, 'tmp', mark)), '/tmp is a tmpfs of the container, not the host directory');
  const cfg = configFor({ rootfs: '/r', args: [] }) as { root: { readonly: boolean } };
  assert.is(cfg.root.readonly, true);
  const rw = configFor({ rootfs: { path: '/r', readonly: false }, args: [] }) as { root: { readonly: boolean }; mounts: { destination: string }[] };
  assert.is(rw.root.readonly, false, 'readonly: false opts in to writing the host directory');
  assert.not.ok(rw.mounts.some((m) => m.destination === '/tmp'));
  assert.equal(tempBundles(), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('rootfs overlay: writes land in the container only, never in the host directory nor a second container; nothing left after delete', async () => {
  if (!ready('rootfs overlay')) return;
  const before = snapshot();
  const mark = `ctrtest-vocab-${process.pid}-overlay`;
  const a = await Container.create({
    id: newId(),
    root,
    rootfs: { path: rootfs, overlay: true },
    args: ['sh', '-c', `echo from-a > /${mark} && echo ready && cat /${mark}; while :; do sleep 0.1; done`],
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const ready = firstLine(a.stdout);
    await a.start();
    assert.is(await ready, 'ready');
    assert.not.ok(existsSync(join(rootfs, mark)), 'the write did not reach the host directory');
    const upper = join((await a.state()).bundle, 'overlay', 'upper', mark);
    assert.is(readFileSync(upper, 'utf8'), 'from-a\n', 'it is in the container\'s upper layer');
    assert.equal(overlayMounts(), [], 'the overlay is mounted in the container\'s mount namespace only');
    const b = await run({ id: newId(), root, rootfs: { path: rootfs, overlay: true }, args: ['sh', '-c', `cat /${mark} 2>/dev/null || echo absent; echo from-b > /${mark}; cat /${mark}`] });
    assert.is(b.stdout, 'absent\nfrom-b\n', 'a second container sees neither the first one\'s write nor keeps its own');
    assert.not.ok(existsSync(join(rootfs, mark)));
    assert.is(readFileSync(upper, 'utf8'), 'from-a\n');
    assert.equal(await a.stop({ timeout: 0 }), { exitCode: null, signal: 'SIGKILL' });
  } finally {
    await a.delete({ force: true });
  }
  assert.equal(tempBundles(), [], 'upper and work directories went with the bundle');
  assert.equal(overlayMounts(), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('rootfs overlay after a crash: gc() removes the dead owner\'s record and its bundle with the upper layer', async () => {
  if (!ready('rootfs overlay gc')) return;
  const dist = join(__dirname, '../dist/index.cjs');
  if (!existsSync(dist)) return skip('rootfs overlay gc', 'no packages/runtime/dist (pnpm run build)');
  const before = snapshot();
  const id = newId();
  const script = join(ws.work, 'overlay-owner.cjs');
  writeFileSync(
    script,
    `const { Container } = require(${JSON.stringify(dist)});
Container.create({ id: process.argv[3], root: process.argv[2], rootfs: { path: process.argv[4], overlay: true }, args: ['sh', '-c', 'echo x > /written; sleep 1000'], stdio: 'ignore' })
  .then((c) => c.start()).then(() => { process.stdout.write('started\\n'); setInterval(() => {}, 1000); });
`,
  );
  const p = spawn(process.execPath, [script, root, id, rootfs], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((r) => p.stdout.on('data', (c: Buffer) => c.toString().includes('started') && r()));
    const [state] = (await Container.list(root)).filter((st) => st.id === id);
    assert.ok(state.bundle.startsWith(join(tmpdir(), `ctr-run-${p.pid}-`)), state.bundle);
    assert.ok(await eventually(() => existsSync(join(state.bundle, 'overlay/upper/written'))));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('close', r));
    const r = await gc(root);
    assert.equal([r.removed, r.failed], [[id], []]);
    assert.not.ok(existsSync(state.bundle), 'the bundle and its overlay layers went with the record');
    assert.not.ok(existsSync(join(rootfs, 'written')));
  } finally {
    p.kill('SIGKILL');
    await Container.load(id, root).then((c) => c.delete({ force: true }), () => undefined);
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('rootfs option shapes: bad ones and old spellings rejected with coded errors, nothing made', async () => {
  const before = tempBundles();
  const bad = async (opts: Record<string, unknown>, code: string, field: string, re?: RegExp) => {
    await rejects(Container.create({ id: newId(), root, args: ['true'], ...opts } as never), code, field, re);
    await rejects(run({ root, args: ['true'], ...opts } as never), code, field, re);
  };
  // The old spelling: a top-level readonly.
  await bad({ rootfs, readonly: true }, 'ERUNTIME_RENAMED_OPTION', 'readonly', /use rootfs: \{ path, readonly \}/);
  await bad({ rootfs, readonly: false }, 'ERUNTIME_RENAMED_OPTION', 'readonly', /use rootfs: \{ path, readonly \}/);
  await bad({ rootfs: { path: rootfs, overlay: true, readonly: true } }, 'ERUNTIME_INVALID_OPTION', 'rootfs.readonly');
  await bad({ rootfs: { path: rootfs, readOnly: true } }, 'ERUNTIME_INVALID_OPTION', 'rootfs.readOnly');
  await bad({ rootfs: { path: '/a,b', overlay: true } }, 'ERUNTIME_INVALID_OPTION', 'rootfs.path');
  await bad({ rootfs: {} }, 'ERUNTIME_INVALID_OPTION', 'rootfs');
  assert.throws(
    () => configFor({ rootfs: { path: '/r', overlay: true }, args: [] }),
    (e: unknown) => e instanceof RuntimeError && e.code === 'ERUNTIME_INVALID_OPTION' && e.path === 'rootfs.overlay',
  );
  assert.equal(tempBundles(), before, 'no temp bundle left by a refused create');
});

test('a program that cannot be executed is ENS_EXEC from create, exec and @ctr/ns alike (ERUNTIME_EXEC is replaced)', async () => {
  if (!ready('exec code')) return;
  const before = snapshot();
  for (const args of [['/bin/no-such-binary'], ['no-such-binary'], ['/etc/passwd']]) {
    const e = await Container.create({ id: newId(), root, rootfs, args, stdio: 'ignore' }).catch((err: unknown) => err);
    assert.instance(e, RuntimeError);
    assert.is((e as RuntimeError).code, 'ENS_EXEC', args[0]);
  }
  const c = await Container.create({ id: newId(), root, rootfs, args: ['sleep', '100'], stdio: 'ignore' });
  try {
    await c.start();
    const e = await c.exec(['/bin/no-such-binary'], { stdio: 'ignore' }).catch((err: unknown) => err);
    assert.instance(e, RuntimeError);
    assert.is((e as RuntimeError).code, 'ENS_EXEC');
  } finally {
    await c.delete({ force: true });
  }
  assert.equal(tempBundles(), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test.after(ws.remove);
test.run();
