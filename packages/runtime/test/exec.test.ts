import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Container, CTRUN_PATH, RuntimeError, type ContainerEvent } from '../src/index';
import { skip, snapshot, eventually, cgroupController } from '../../../test-support';
import { leftovers, readAll, ready, workspace } from './support';

const ws = workspace('exec');
const { work, root } = ws;
const newId = ws.newId;

function bundle(args: string[], linux: Record<string, unknown> = {}): string {
  return ws.bundle(args, {
    hostname: 'rtexec-api',
    process: { cwd: '/', args, env: ['PATH=/bin', 'A=1'], user: { uid: 0, gid: 0 } },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }], ...linux },
  });
}

/** The file of a controller for the container's cgroup (v1 or v2 name). */
function cgroupFile(id: string, controller: string, names: string[]): string {
  const c = cgroupController(controller);
  if (!c) throw new Error(`no ${controller} controller`);
  for (const name of names) {
    const p = join(c.path, id, name);
    if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  }
  throw new Error(`none of ${names.join(', ')} under ${join(c.path, id)}`);
}

test('exec runs in the namespaces and cgroup of the init, streams stdio and gives the exit code', async () => {
  if (!ready('container exec')) return;
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '1000']), root, stdio: 'ignore' });
  try {
    await c.start();
    const script = 'read line; echo got=$line; echo A=$A B=$B; hostname; for k in pid mnt uts ipc; do echo $k=$(readlink /proc/self/ns/$k); done; test -e /linuxrc && echo root=busybox; cat /proc/self/cgroup; pwd; exit 3';
    const p = await c.exec(['sh', '-c', script], { env: { B: '2' }, cwd: '/tmp' });
    const out = readAll(p.stdout);
    const err = readAll(p.stderr);
    p.stdin!.end('hello\n');
    assert.equal(await p.wait(), { exitCode: 3, signal: null });
    const text = await out;
    assert.is(await err, '');
    assert.ok(text.includes('got=hello\n'), text);
    assert.ok(text.includes('A=1 B=2\n'), `the container's environment plus ours: ${text}`);
    assert.ok(text.includes('rtexec-api\n'), text);
    for (const k of ['pid', 'mnt', 'uts', 'ipc']) {
      const init = readlinkSync(`/proc/${c.pid}/ns/${k}`);
      assert.ok(text.includes(`${k}=${init}\n`), `${k} is the init's ${init}: ${text}`);
      assert.is.not(init, readlinkSync(`/proc/self/ns/${k}`));
    }
    assert.ok(text.includes('root=busybox'), text);
    assert.ok(text.includes('\n/tmp\n'), text);
    assert.ok(text.split('\n').some((l) => (l.includes(':pids:') || l.startsWith('0::')) && l.endsWith(`/${id}`)), `in the container's cgroup: ${text}`);
    // kill() and the signal in the result.
    const s = await c.exec(['sleep', '100'], { stdio: 'ignore' });
    s.kill('SIGKILL');
    assert.equal(await s.wait(), { exitCode: null, signal: 'SIGKILL' });
    // A whole OCI process object.
    const q = await c.exec(
      { args: ['sh', '-c', 'echo $(id -u):$(id -g) $X; pwd'], env: ['PATH=/bin', 'X=oci'], cwd: '/proc', user: { uid: 5, gid: 6 } },
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const qo = readAll(q.stdout);
    assert.equal(await q.wait(), { exitCode: 0, signal: null });
    assert.is(await qo, '5:6 oci\n/proc\n');
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('exec into a stopped container is refused with a code; pid files are written', async () => {
  if (!ready('container exec stopped')) return;
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '1000']), root, stdio: 'ignore' });
  try {
    await c.start();
    const pidFile = join(work, `exec-${id}.pid`);
    const p = await c.exec(['sleep', '100'], { stdio: 'ignore', pidFile });
    assert.is(Number(readFileSync(pidFile, 'utf8')), p.pid);
    assert.is(readlinkSync(`/proc/${p.pid}/ns/pid`), readlinkSync(`/proc/${c.pid}/ns/pid`));
    try {
      await c.exec({ args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, terminal: true });
      assert.unreachable('terminal without a devpts');
    } catch (e) {
      // This container has no devpts on /dev/pts: the pty cannot be made there.
      assert.is((e as RuntimeError).code, 'ENS_CONSOLE');
    }
    await c.kill('SIGKILL');
    await c.wait();
    // The pid namespace went with its init: so did the exec'd process.
    assert.equal(await p.wait(), { exitCode: null, signal: 'SIGKILL' });
    try {
      await c.exec(['true']);
      assert.unreachable('exec into a stopped container');
    } catch (e) {
      assert.instance(e, RuntimeError);
      assert.is((e as RuntimeError).code, 'ERUNTIME_NOT_RUNNING');
    }
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('update changes memory and pids limits in the kernel; runc stats and events see them', async () => {
  if (!ready('container update')) return;
  if (!cgroupController('pids') || !cgroupController('memory')) return skip('container update', 'no pids or memory controller');
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '1000'], { resources: { pids: { limit: 10 } } }), root, stdio: 'ignore' });
  try {
    await c.start();
    assert.is(cgroupFile(id, 'pids', ['pids.max']), '10');
    await c.update({ memory: '48m', pids: 25 });
    assert.is(cgroupFile(id, 'pids', ['pids.max']), '25');
    assert.is(cgroupFile(id, 'memory', ['memory.limit_in_bytes', 'memory.max']), String(48 * 1024 * 1024));
    await c.updateResources({ pids: { limit: 12 } });
    assert.is(cgroupFile(id, 'pids', ['pids.max']), '12');
    assert.is(cgroupFile(id, 'memory', ['memory.limit_in_bytes', 'memory.max']), String(48 * 1024 * 1024), 'what is not given is kept');
    // ctrun update from the command line on the same store.
    const r = spawnSync(CTRUN_PATH, ['--root', root, 'update', '--pids-limit', '14', id], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(cgroupFile(id, 'pids', ['pids.max']), '14');
    try {
      await c.updateResources({ memory: { limit: 'lots' } });
      assert.unreachable('bad size');
    } catch (e) {
      assert.ok((e as RuntimeError).code.startsWith('ECGROUP_'), String(e));
    }
    const s = await c.runcStats();
    assert.is(s.pids.limit, 14);
    assert.ok((s.pids.current ?? 0) >= 1);
    assert.is(s.memory.usage.limit, 48 * 1024 * 1024);
    // The events stream: stats lines at the interval, ends when aborted.
    const stop = new AbortController();
    const seen: ContainerEvent[] = [];
    for await (const ev of c.events({ interval: 50, signal: stop.signal })) {
      seen.push(ev);
      if (seen.length === 2) stop.abort();
    }
    assert.is(seen.length, 2);
    assert.ok(seen.every((e) => e.type === 'stats' && e.id === id && e.data.pids.limit === 14));
    // ctrun events --stats prints one runc stats line.
    const ev = spawnSync(CTRUN_PATH, ['--root', root, 'events', '--stats', id], { encoding: 'utf8' });
    assert.is(ev.status, 0, ev.stderr);
    const line = JSON.parse(ev.stdout.trim());
    assert.is(line.type, 'stats');
    assert.is(line.id, id);
    assert.is(line.data.pids.limit, 14);
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('events report an OOM of an exec\'d process and end with the container', async () => {
  if (!ready('container events oom')) return;
  if (!cgroupController('memory')) return skip('container events oom', 'no memory controller');
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '1000'], { resources: { memory: { limit: 8 * 1024 * 1024 } } }), root, stdio: 'ignore' });
  try {
    await c.start();
    const seen: ContainerEvent[] = [];
    const done = (async () => {
      for await (const ev of c.events({ interval: 60_000 })) seen.push(ev);
    })();
    // Let the watcher start before the OOM.
    await new Promise((r) => setTimeout(r, 100));
    const hog = await c.exec(['sh', '-c', 'exec tail /dev/zero'], { stdio: 'ignore' });
    assert.equal(await hog.wait(), { exitCode: null, signal: 'SIGKILL' });
    assert.ok(await eventually(() => seen.some((e) => e.type === 'oom'), 5000), JSON.stringify(seen));
    await c.kill('SIGKILL');
    await done;
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('exec({ terminal }) gives the process a pty of the container: input in, output out, exit code', async () => {
  if (!ready('container exec terminal')) return;
  const before = snapshot();
  const id = newId();
  const b = ws.bundle(['sleep', '1000'], {
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }] },
  });
  const c = await Container.create({ id, bundle: b, root, stdio: 'ignore' });
  try {
    await c.start();
    const p = await c.exec(['sh', '-c', 'tty; read -r l; echo got:$l; exit 6'], { terminal: true });
    assert.ok(p.terminal, 'a terminal');
    assert.is(p.stdout, null, 'stdio goes through the pty');
    const chunks: Buffer[] = [];
    p.terminal!.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise((r) => p.terminal!.on('end', r));
    p.terminal!.write('typed\n');
    assert.equal(await p.wait(), { exitCode: 6, signal: null });
    await ended;
    const out = Buffer.concat(chunks).toString().replace(/\r\n/g, '\n');
    assert.ok(/^\/dev\/pts\/\d+$/m.test(out), out);
    assert.ok(out.includes('got:typed\n'), out);
    p.terminal!.destroy();
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('exec applies process.scheduler and execCPUAffinity.final (read back from /proc/self)', async () => {
  if (!ready('container exec scheduler')) return;
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '1000']), root, stdio: 'ignore' });
  try {
    await c.start();
    const p = await c.exec({
      args: ['sh', '-c', 'cat /proc/self/stat; grep Cpus_allowed_list /proc/self/status'],
      cwd: '/',
      user: { uid: 0, gid: 0 },
      env: ['PATH=/bin'],
      scheduler: { policy: 'SCHED_BATCH', nice: 4 },
      execCPUAffinity: { final: '0' },
    });
    const out = readAll(p.stdout);
    assert.equal(await p.wait(), { exitCode: 0, signal: null });
    const [stat, cpus] = (await out).trim().split('\n');
    // /proc/<pid>/stat fields 18, 19, 41: priority (20 + nice), nice, policy (SCHED_BATCH = 3).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(/\s+/);
    assert.equal([f[15], f[16], f[38]].map(Number), [24, 4, 3], stat);
    assert.is(cpus, 'Cpus_allowed_list:\t0');
    try {
      await c.exec({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: { final: '1-0' } });
      assert.unreachable('a backwards cpu range');
    } catch (e) {
      assert.is((e as RuntimeError).code, 'EOCI_INVALID');
      assert.is((e as RuntimeError).path, 'process.execCPUAffinity.final');
    }
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test.after(ws.remove);
test.run();
