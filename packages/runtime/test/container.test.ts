import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Container, CTRUN_PATH, RuntimeError, run, spawnMode } from '../src/index';
import { snapshot, eventually } from '../../../test-support';
import { leftovers, readAll, ready, rootfs, workspace } from './support';

const ws = workspace('api');
const { work, root } = ws;
const newId = ws.newId;

function bundle(args: string[], extra: Record<string, unknown> = {}): string {
  return ws.bundle(args, {
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }] },
    ...extra,
  });
}

test('create leaves the init waiting, start runs it, stdout streams, wait gives the exit code, delete removes it', async () => {
  if (!ready('container lifecycle')) return;
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sh', '-c', 'echo hello from $$; exit 42'], { hostname: 'apibox' }), root, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const s = await c.state();
    assert.is(s.status, 'created');
    assert.is(s.pid, c.pid);
    // No runtime binary is exec'd: the clone made by ctr_ns::spawn (of the
    // spawner's sealed memfd, or of this process with the fork mode) ends
    // its setup by exec'ing the sealed exec helper, which waits for start,
    // then execs the program. So until start the init is no copy of a
    // runtime's memory and no host binary, whatever the spawn mode.
    assert.match(readlinkSync(`/proc/${c.pid}/exe`), /^\/memfd:ctr-exec/, spawnMode());
    // The same store as ctrun: the command line sees it.
    const fromCli = spawnSync(CTRUN_PATH, ['--root', root, 'state', id], { encoding: 'utf8' });
    assert.is(JSON.parse(fromCli.stdout).status, 'created');
    const out = readAll(c.stdout);
    const exit = new Promise((res) => c.once('exit', (code, sig) => res([code, sig])));
    await c.start();
    assert.is(await out, 'hello from 1\n');
    assert.equal(await c.wait(), { exitCode: 42, signal: null });
    assert.equal(await exit, [42, null]);
    assert.is((await c.state()).status, 'stopped');
  } finally {
    await c.delete({ force: true });
  }
  assert.not.ok(existsSync(join(root, id)));
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('the in-process API makes user namespace containers (root mapped to 100000) and honours noPivot', async () => {
  if (!ready('container user namespace')) return;
  const before = snapshot();
  const id = newId();
  const userns = {
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'user' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    },
  };
  const c = await Container.create({ id, bundle: bundle(['sh', '-c', 'echo uid=$(id -u); sleep 100'], userns), root, stdio: ['ignore', 'pipe', 'ignore'], noPivot: true });
  try {
    assert.equal(readFileSync(`/proc/${c.pid}/uid_map`, 'utf8').trim().split(/\s+/), ['0', '100000', '65536']);
    const out = c.stdout!;
    await c.start();
    const line = await new Promise<string>((res) => out.once('data', (d: Buffer) => res(d.toString())));
    assert.is(line, 'uid=0\n');
    const uid = readFileSync(`/proc/${c.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!.split(/\s+/)[1];
    assert.is(uid, '100000');
    await c.kill('SIGKILL');
    await c.wait();
  } finally {
    await c.delete({ force: true });
  }
  assert.not.ok(existsSync(join(root, id)));
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('kill ends a running container with its signal; load and list see containers made by ctrun', async () => {
  if (!ready('container kill')) return;
  const before = snapshot();
  const a = await Container.create({ id: newId(), bundle: bundle(['sleep', '100']), root, stdio: 'ignore' });
  const cliId = newId();
  const r = spawnSync(CTRUN_PATH, ['--root', root, 'create', '--bundle', bundle(['sleep', '100']), cliId], { stdio: 'ignore' });
  assert.is(r.status, 0);
  try {
    await a.start();
    const ids = (await Container.list(root)).map((s) => [s.id, s.status]).sort();
    assert.equal(ids, [[a.id, 'running'], [cliId, 'created']].sort());
    const b = await Container.load(cliId, root);
    assert.ok(b.pid > 0);
    await b.start();
    assert.is((await b.state()).status, 'running');
    await a.kill('SIGKILL');
    assert.equal(await a.wait(), { exitCode: null, signal: 'SIGKILL' });
    await b.kill('SIGKILL');
    assert.equal(await b.wait(), { exitCode: null, signal: null }, 'not our child: only its end is known');
  } finally {
    await a.delete({ force: true });
    await Container.load(cliId, root).then((b) => b.delete({ force: true }), () => undefined);
  }
  assert.equal(await Container.list(root), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('bad bundles reject with coded RuntimeErrors and leave nothing', async () => {
  if (!ready('container errors')) return;
  const before = snapshot();
  const cases: [string, string][] = [
    [join(work, 'nope'), 'EOCI_BUNDLE'],
    [bundle(['/bin/no-such-binary']), 'ENS_EXEC'],
    [bundle(['sh'], { linux: { namespaces: [{ type: 'mount' }, { type: 'bogus' }] } }), 'EOCI_INVALID'],
  ];
  for (const [b, code] of cases) {
    const id = newId();
    const err = await Container.create({ id, bundle: b, root, stdio: 'ignore' }).then(() => null, (e: unknown) => e);
    assert.instance(err, RuntimeError);
    assert.is((err as RuntimeError).code, code);
    assert.not.ok(existsSync(join(root, id)));
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('an AbortSignal kills and deletes the container', async () => {
  if (!ready('container abort')) return;
  const ac = new AbortController();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '100']), root, stdio: 'ignore', signal: ac.signal });
  await c.start();
  ac.abort();
  const r = await c.wait();
  assert.is(r.signal, 'SIGKILL');
  assert.ok(await eventually(() => !existsSync(join(root, id))), 'state dir removed after abort');
});

test('many pending waits: each resolves with its own container\'s exit, in the order the containers end', async () => {
  if (!ready('container waits')) return;
  const before = snapshot();
  // Every wait of the process goes through one native watcher: each result
  // must still reach its own container (exit code = index), whatever the order.
  // Each container exits when its stdin gets a line, so the order they end in
  // is the test's, not a race of sleeps against the time each start takes.
  const n = 6;
  const cs = await Promise.all(
    Array.from({ length: n }, (_, i) => Container.create({ id: newId(), bundle: bundle(['sh', '-c', `read x; exit ${10 + i}`]), root, stdio: ['pipe', 'ignore', 'ignore'] })),
  );
  try {
    const order: number[] = [];
    const waits = cs.map((c, i) => c.wait().then((r) => (order.push(i), r)));
    for (const c of cs) await c.start();
    // End them last index first; each wait must resolve after its own
    // container's end and before the next one's.
    for (let i = n - 1; i >= 0; i--) {
      assert.equal(order, Array.from({ length: n - 1 - i }, (_, k) => n - 1 - k), `only the containers ended so far resolved (before ${i})`);
      cs[i].stdin!.end('go\n');
      assert.equal(await waits[i], { exitCode: 10 + i, signal: null });
    }
    const results = await Promise.all(waits);
    results.forEach((r, i) => assert.equal(r, { exitCode: 10 + i, signal: null }));
    assert.equal(order, [...order].sort((a, b) => b - a), 'the first ended (last index) resolves first');
    // A second wait on an ended container resolves with the same result.
    assert.equal(await cs[2].wait(), { exitCode: 12, signal: null });
  } finally {
    for (const c of cs) await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('containers made concurrently by the API and by ctrun, started and deleted, leave nothing', async () => {
  if (!ready('container concurrency')) return;
  const before = snapshot();
  const b = bundle(['sleep', '100']);
  const { execFile } = await import('node:child_process');
  const cli = (args: string[]) =>
    new Promise<number>((res) => execFile(CTRUN_PATH, ['--root', root, ...args], { stdio: 'ignore' } as object, (err) => res(err ? 1 : 0)).on('error', () => res(1)));
  const viaApi = async () => {
    const c = await Container.create({ id: newId(), bundle: b, root, stdio: 'ignore' });
    await c.start();
    await c.delete({ force: true });
  };
  const viaCli = async () => {
    const id = newId();
    // ctrun create's stdio is inherited by the container: give it none.
    const { spawn } = await import('node:child_process');
    const code = await new Promise<number | null>((res) => spawn(CTRUN_PATH, ['--root', root, 'create', '--bundle', b, id], { stdio: 'ignore' }).on('exit', res));
    assert.is(code, 0);
    assert.is(await cli(['start', id]), 0);
    assert.is(await cli(['delete', '--force', id]), 0);
  };
  await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? viaApi() : viaCli())));
  assert.equal(await Container.list(root), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('run() turns a friendly description into a container and collects its output', async () => {
  if (!ready('run')) return;
  const before = snapshot();
  const r = await run({
    rootfs,
    root,
    args: ['sh', '-c', 'read x; echo "got $x as $(id -u) on $(hostname) in $(pwd)"; grep -c : /proc/net/dev; echo oops >&2; exit 3'],
    hostname: 'friendly',
    cwd: '/tmp',
    user: { uid: 1234, gid: 1234 },
    input: 'hello\n',
  });
  // /proc/net/dev lists only lo: a new network namespace.
  assert.equal(r, { exitCode: 3, signal: null, status: 3, oom: false, stdout: 'got hello as 1234 on friendly in /tmp\n1\n', stderr: 'oops\n' });
  assert.equal(await Container.list(root), []);
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test("a 5 MB memory limit ends in an 'oom' event and a SIGKILL; stats() reads the cgroup", async () => {
  if (!ready('container oom')) return;
  const before = snapshot();
  const b = bundle(['sh', '-c', 'sleep 0.2; exec tail /dev/zero'], {
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }], resources: { memory: { limit: 5 * 1024 * 1024 } } },
  });
  const c = await Container.create({ id: newId(), bundle: b, root, stdio: 'ignore' });
  try {
    let ooms = 0;
    c.on('oom', () => ooms++);
    await c.start();
    const s = await c.stats();
    assert.ok(s.memory === undefined || typeof s.memory === 'object');
    assert.equal(await c.wait(), { exitCode: null, signal: 'SIGKILL' });
    assert.ok(await eventually(() => ooms === 1), `oom events: ${ooms}`);
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test.after(ws.remove);
test.run();
