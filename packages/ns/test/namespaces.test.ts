import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { spawn, run, enter, persistNamespace, releaseNamespace, supportedNamespaces, NsError } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot } from '../../../test-support';

const before = snapshot();
const ALL = ['mnt', 'pid', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'] as const;
const links = `for n in ${ALL.join(' ')}; do echo $n $(readlink /proc/self/ns/$n); done`;
const parse = (out: string) => Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
const tmp = `/tmp/ctrtest-ns-${process.pid}`;

/** A long-lived child in fresh namespaces of every kind, to join. */
async function target(kinds: string[]) {
  const child = spawn('sleep', ['30'], { namespaces: kinds as never, stdio: 'ignore', uidMap: kinds.includes('user') ? [{ containerID: 0, hostID: 0, size: 65536 }] : undefined, gidMap: kinds.includes('user') ? [{ containerID: 0, hostID: 0, size: 65536 }] : undefined });
  await child.spawned;
  return child;
}

for (const kind of ALL) {
  test(`join ${kind} by path and by pid: /proc/self/ns/${kind} inside equals the target's`, async () => {
    if (!isRoot) return skip(`join ${kind}`, 'needs root');
    if (!supportedNamespaces().includes(kind)) return skip(`join ${kind}`, `no ${kind} namespaces`);
    const t = await target([kind]);
    try {
      const want = readlinkSync(`/proc/${t.pid}/ns/${kind}`);
      assert.is.not(want, readlinkSync(`/proc/self/ns/${kind}`));
      for (const how of [`/proc/${t.pid}/ns/${kind}`, t.pid]) {
        // time and pid apply to children of the joiner: look from the exec'd program and a grandchild.
        const r = await run('sh', ['-c', kind === 'pid' || kind === 'time' ? `sh -c '${links}'` : links], { join: { [kind]: how } });
        assert.is(r.exitCode, 0, r.stderr);
        const inside = parse(r.stdout);
        assert.is(inside[kind], want, `${kind} via ${how}`);
        for (const other of ALL) if (other !== kind && existsSync(`/proc/self/ns/${other}`)) assert.is(inside[other], readlinkSync(`/proc/self/ns/${other}`), other);
      }
    } finally {
      t.kill('SIGKILL');
      await t.exited;
    }
  });
}

test('mix: join a net namespace and create a pid and uts one', async () => {
  if (!isRoot) return skip('mix', 'needs root');
  const t = await target(['net']);
  try {
    const r = await run('sh', ['-c', `echo $$; ${links}`], { join: { net: t.pid }, namespaces: ['pid', 'uts'], hostname: 'mixed' });
    assert.is(r.exitCode, 0, r.stderr);
    const [pid, ...rest] = r.stdout.trim().split('\n');
    assert.is(pid, '1');
    const inside = parse(rest.join('\n'));
    assert.is(inside.net, readlinkSync(`/proc/${t.pid}/ns/net`));
    assert.is.not(inside.uts, readlinkSync('/proc/self/ns/uts'));
    assert.is.not(inside.pid, readlinkSync('/proc/self/ns/pid'));
  } finally {
    t.kill('SIGKILL');
    await t.exited;
  }
});

test('join a user namespace and the namespaces it owns (runc order)', async () => {
  if (!isRoot) return skip('join user', 'needs root');
  const t = await target(['user', 'net', 'uts']);
  try {
    const r = await run('sh', ['-c', `id -u; ${links}`], { join: { user: t.pid, net: t.pid, uts: t.pid } });
    assert.is(r.exitCode, 0, r.stderr);
    const [uid, ...rest] = r.stdout.trim().split('\n');
    assert.is(uid, '0');
    const inside = parse(rest.join('\n'));
    for (const k of ['user', 'net', 'uts']) assert.is(inside[k], readlinkSync(`/proc/${t.pid}/ns/${k}`), k);
  } finally {
    t.kill('SIGKILL');
    await t.exited;
  }
});

test('enter(): runs a command in all namespaces of a process that differ', async () => {
  if (!isRoot) return skip('enter', 'needs root');
  const t = spawn('sleep', ['30'], { namespaces: ['pid', 'mnt', 'net', 'uts', 'ipc'], mountProc: true, hostname: 'entered', stdio: 'ignore' });
  await t.spawned;
  try {
    const child = enter(t.pid, 'sh', ['-c', `hostname; pwd; ps -o pid= 2>/dev/null | wc -l; ${links}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    const { exitCode } = await child.exited;
    await new Promise((r) => (child.stdout!.closed ? r(undefined) : child.stdout!.once('close', r)));
    assert.is(exitCode, 0);
    const [host, cwd, , ...rest] = Buffer.concat(out).toString().trim().split('\n');
    assert.is(host, 'entered');
    assert.is(cwd, '/');
    const inside = parse(rest.join('\n'));
    for (const k of ['mnt', 'net', 'uts', 'ipc']) assert.is(inside[k], readlinkSync(`/proc/${t.pid}/ns/${k}`), k);
  } finally {
    t.kill('SIGKILL');
    await t.exited;
  }
});

test('a bad namespace path is a coded error naming the path, no process made', () => {
  assert.throws(
    () => spawn('true', [], { join: { net: '/nonexistent/ctr-ns' } }),
    (e: NsError) => e.code === 'ENS_JOIN' && e.errno === 2 && e.path === '/nonexistent/ctr-ns' && e.syscall === 'open',
  );
  assert.throws(() => spawn('true', [], { join: { net: '/proc/self/ns/uts' } }), (e: NsError) => e.code === 'ENS_JOIN' && e.path === '/proc/self/ns/uts');
  assert.throws(() => spawn('true', [], { join: { net: '/etc/hostname' } }), (e: NsError) => e.code === 'ENS_JOIN');
});

test('user namespace: uid 0 inside maps to the host uid given', async () => {
  if (!isRoot) return skip('userns', 'needs root');
  const r = await run('sh', ['-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; grep CapEff /proc/self/status; touch /proc/self/x 2>/dev/null; stat -c %u /proc/self'], {
    namespaces: ['user'],
    uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMap: [{ containerID: 0, hostID: 200000, size: 65536 }],
  });
  assert.is(r.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  assert.is(lines[0], '0');
  assert.is(lines[1], '0');
  assert.is(lines[2], '0 100000 65536');
  assert.is(lines[3], '0 200000 65536');
  // uid 0 inside keeps its capabilities across exec (setresuid(0) after the maps).
  assert.match(lines[4], /^CapEff: [0-9a-f]{16}$/);
  assert.is.not(lines[4], 'CapEff: 0000000000000000');
});

test('an id map the kernel refuses is ENS_ID_MAP naming the file, child reaped', async () => {
  if (!isRoot) return skip('bad map', 'needs root');
  const child = spawn('true', [], {
    namespaces: ['user'],
    stdio: 'ignore',
    uidMap: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 5000, size: 10 }], // overlapping ranges
  });
  const err = await child.spawned.then(() => null, (e: NsError) => e);
  assert.instance(err, NsError);
  assert.is(err!.code, 'ENS_ID_MAP');
  assert.is(err!.errno, 22);
  assert.is(err!.path, `/proc/${child.pid}/uid_map`);
  assert.not.ok(existsSync(`/proc/${child.pid}`), 'reaped');
});

test('time namespace: the child sees its monotonic and boottime offsets', async () => {
  if (!isRoot) return skip('time', 'needs root');
  if (!supportedNamespaces().includes('time')) return skip('time', 'no time namespaces');
  const r = await run('sh', ['-c', 'cat /proc/uptime; cat /proc/self/timens_offsets'], { timeOffsets: { monotonic: 86400 * 3, boottime: 86400 * 10 } });
  assert.is(r.exitCode, 0, r.stderr);
  const [uptime, ...offsets] = r.stdout.trim().split('\n');
  const hostUptime = Number((await run('cat', ['/proc/uptime'])).stdout.split(' ')[0]);
  // /proc/uptime is CLOCK_BOOTTIME: ten days ahead of the host's.
  assert.ok(Math.abs(Number(uptime.split(' ')[0]) - hostUptime - 864000) < 5, `${uptime} vs ${hostUptime}`);
  assert.match(offsets.join('\n'), /monotonic\s+259200\s+0/);
  assert.match(offsets.join('\n'), /boottime\s+864000\s+0/);
});

test('persistent namespace: a net namespace outlives its process, is joinable, and is released', async () => {
  if (!isRoot) return skip('persist', 'needs root');
  mkdirSync(tmp, { recursive: true });
  const file = `${tmp}/net`;
  const t = await target(['net']);
  const ino = readlinkSync(`/proc/${t.pid}/ns/net`);
  try {
    await persistNamespace(t.pid, 'net', file);
  } finally {
    t.kill('SIGKILL');
    await t.exited;
  }
  try {
    assert.ok(existsSync(file));
    assert.is(`net:[${statSync(file).ino}]`, ino);
    const r = await run('readlink', ['/proc/self/ns/net'], { join: { net: file } });
    assert.is(r.stdout.trim(), ino);
    const again = await persistNamespace(process.pid, 'net', file).then(() => null, (e: NsError) => e);
    assert.is(again?.code, 'ENS_PERSIST');
  } finally {
    await releaseNamespace(file);
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.not.ok(existsSync(file));
  const gone = await releaseNamespace(file).then(() => null, (e: NsError) => e);
  assert.is(gone?.code, 'ENS_PERSIST');
});

test('nothing left behind', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
});

test.run();
