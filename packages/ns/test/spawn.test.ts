import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readlinkSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { spawn, run, supportedNamespaces, NsError, NAMESPACE_TYPES } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot, childPids } from '../../../test-support';

// The baseline is taken after one spawn: the native side starts its tokio
// runtime (epoll, eventfd, worker threads) on first use, and those fds are
// the runtime's, not leftovers of a test.
let before: ReturnType<typeof snapshot>;
test.before(async () => {
  await run('true', []);
  before = snapshot();
});
const ALL = ['mnt', 'pid', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'];

test('supportedNamespaces lists exactly the kinds in /proc/self/ns', () => {
  const fromProc = readdirSync('/proc/self/ns').filter((n) => ALL.includes(n)).sort();
  assert.equal([...supportedNamespaces()].sort(), fromProc);
  assert.equal([...NAMESPACE_TYPES].sort(), [...ALL].sort());
});

test('a piped stdout carries the child output and the exit code comes back', async () => {
  const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 7']);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  assert.is(r.exitCode, 7);
  assert.is(r.signal, null);
});

test('stdin pipe reaches the child', async () => {
  const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stdin!.end('through the pipe');
  const { exitCode } = await child.exited;
  await new Promise((r) => child.stdout!.once('close', r).destroyed && r(undefined));
  assert.is(exitCode, 0);
  assert.is(Buffer.concat(chunks).toString(), 'through the pipe');
});

const nsScript = `for n in ${ALL.join(' ')}; do [ -e /proc/self/ns/$n ] && echo $n $(readlink /proc/self/ns/$n); done`;

function parseLinks(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

for (const kind of ['mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup', 'time', 'user'] as const) {
  test(`new ${kind} namespace: only /proc/self/ns/${kind} differs from the parent's`, async () => {
    if (!isRoot) return skip(`new ${kind}`, 'needs root');
    if (!supportedNamespaces().includes(kind)) return skip(`new ${kind}`, `kernel has no ${kind} namespaces`);
    // A time namespace applies to children of the caller, so look from a
    // grandchild; the others are visible in the child itself.
    const script = kind === 'time' ? `sh -c '${nsScript}'` : nsScript;
    const r = await run('sh', ['-c', script], { namespaces: [kind] });
    assert.is(r.exitCode, 0, r.stderr);
    const inside = parseLinks(r.stdout);
    for (const n of Object.keys(inside)) {
      const host = readlinkSync(`/proc/self/ns/${n}`);
      if (n === kind) assert.is.not(inside[n], host, `${n} should be new`);
      else assert.is(inside[n], host, `${n} should be shared`);
    }
  });
}

test('inside a new pid namespace with mountProc the child is PID 1 and ps sees only it', async () => {
  if (!isRoot) return skip('pid 1', 'needs root');
  const r = await run('sh', ['-c', 'echo $$; ls /proc | grep -E "^[0-9]+$" | wc -l'], {
    namespaces: ['pid', 'mnt'],
    mountProc: true,
  });
  assert.is(r.exitCode, 0, r.stderr);
  const [pid, procs] = r.stdout.trim().split('\n').map((s) => Number(s.trim()));
  assert.is(pid, 1);
  // sh, ls, grep and wc: a handful, not the host's hundreds.
  assert.ok(procs <= 5, `saw ${procs} processes`);
});

test('a new net namespace has only lo', async () => {
  if (!isRoot) return skip('net lo', 'needs root');
  const r = await run('cat', ['/proc/net/dev'], { namespaces: ['net'] });
  const ifaces = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
  assert.equal(ifaces, ['lo']);
});

test('a hostname set inside is not seen outside', async () => {
  if (!isRoot) return skip('hostname', 'needs root');
  const outside = hostname();
  const r = await run('hostname', [], { namespaces: ['uts'], hostname: 'ctr-inside' });
  assert.is(r.stdout.trim(), 'ctr-inside');
  assert.is(hostname(), outside);
});

test('a missing binary rejects with ENS_EXEC naming the path, and leaves no zombie', async () => {
  const child = spawn('/nonexistent/ctr-no-such-binary', [], { stdio: 'ignore' });
  const pid = child.pid;
  try {
    await child.spawned;
    assert.unreachable('should have failed');
  } catch (e) {
    assert.instance(e, NsError);
    const err = e as NsError;
    assert.is(err.code, 'ENS_EXEC');
    assert.is(err.errno, 2);
    assert.is(err.syscall, 'execve');
    assert.is(err.path, '/nonexistent/ctr-no-such-binary');
  }
  await child.exited.then(() => assert.unreachable(), (e) => assert.instance(e, NsError));
  assert.not.ok(existsSync(`/proc/${pid}`), 'no zombie');
  assert.not.ok(childPids().includes(pid));
});

test('a command missing from PATH also fails with ENS_EXEC', async () => {
  const child = spawn('ctr-definitely-not-a-command', [], { stdio: 'ignore' });
  const err = await child.spawned.then(() => null, (e: NsError) => e);
  assert.is(err?.code, 'ENS_EXEC');
  assert.is(err?.path, 'ctr-definitely-not-a-command');
});

test('invalid options throw synchronously with a field', () => {
  assert.throws(() => spawn('sh', [], { namespaces: ['bogus' as never] }), (e: NsError) => e.code === 'ENS_UNKNOWN_NAMESPACE');
  assert.throws(() => spawn('sh', [], { hostname: 'x' }), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === 'hostname');
  assert.throws(() => spawn('', []), (e: NsError) => e.path === 'command');
  assert.throws(() => spawn('sh', [], { stdio: ['pipe', 'bad' as never, 'pipe'] }), (e: NsError) => e.path === 'stdio[1]');
});

test('events: spawn, exit and close fire like ChildProcess', async () => {
  const child = spawn('sh', ['-c', 'echo hi']);
  const seen: string[] = [];
  child.on('spawn', () => seen.push('spawn'));
  child.on('exit', (code) => seen.push(`exit ${code}`));
  const closed = new Promise((r) => child.on('close', r));
  child.stdout!.resume();
  await closed;
  assert.equal(seen, ['spawn', 'exit 0']);
  assert.is(child.exitCode, 0);
});

test('kill delivers a signal and the exit reports it', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await child.spawned;
  assert.is(await child.kill('SIGKILL'), true);
  const r = await child.exited;
  assert.is(r.signal, 'SIGKILL');
  assert.is(r.exitCode, null);
  assert.is(await child.kill(), false, 'no signal after exit');
});

test('kill takes the one signal vocabulary (SIGTERM, TERM, any case, 1-64) and is async like every ctr kill', async () => {
  const child = spawn('sh', ['-c', 'trap "exit 7" USR1; echo ready; while :; do sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const ready = new Promise((res) => child.stdout!.once('data', res));
  await child.spawned;
  await ready;
  for (const bad of ['SIGNOPE', 'NOPE', 0, 65, 1.5, -9]) {
    const p = child.kill(bad as 'TERM');
    assert.instance(p, Promise, 'kill returns a promise, never throws synchronously');
    const err = await p.then(() => null, (e: unknown) => e);
    assert.instance(err, NsError);
    assert.is((err as NsError).code, 'ENS_INVALID_OPTION');
    assert.is((err as NsError).path, 'signal');
    assert.match((err as NsError).message, /unknown signal .*'SIGTERM' or 'TERM'/);
  }
  assert.is(await child.kill('usr1' as 'USR1'), true);
  assert.equal(await child.exited, { exitCode: 7, signal: null });
  const t = spawn('sleep', ['30'], { stdio: 'ignore' });
  await t.spawned;
  assert.is(await t.kill('KILL'), true);
  assert.is((await t.exited).signal, 'SIGKILL');
  const u = spawn('sleep', ['30'], { stdio: 'ignore' });
  await u.spawned;
  assert.is(await u.kill(15), true);
  assert.is((await u.exited).signal, 'SIGTERM');
  const v = spawn('sleep', ['30'], { stdio: 'ignore' });
  await v.spawned;
  await v[Symbol.asyncDispose]();
  assert.is((await v.exited).signal, 'SIGKILL', 'asyncDispose (await using) kills and reaps it');
  assert.throws(() => spawn('true', [], { signal: new AbortController().signal, killSignal: 'SIGNOPE' as 'TERM' }), (e: unknown) => e instanceof NsError && e.path === 'killSignal');
  assert.throws(() => spawn('true', [], { parentDeathSignal: 'NOPE' as 'TERM' }), (e: unknown) => e instanceof NsError && e.path === 'parentDeathSignal');
});

test('AbortSignal kills the child', async () => {
  const ac = new AbortController();
  const child = spawn('sleep', ['30'], { stdio: 'ignore', signal: ac.signal });
  await child.spawned;
  ac.abort();
  assert.is((await child.exited).signal, 'SIGKILL');
});

test('hold: the child is set up but runs only after release', async () => {
  if (!isRoot) return skip('hold', 'needs root');
  const child = spawn('sh', ['-c', 'echo $$ $(hostname)'], { namespaces: ['pid', 'uts'], hostname: 'held', hold: true });
  const out: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  await child.spawned;
  // Held: alive, set up (hostname already set), but not exec'd yet.
  assert.ok(existsSync(`/proc/${child.pid}`));
  assert.is(readlinkSync(`/proc/${child.pid}/exe`), readlinkSync('/proc/self/exe'));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(out.length, 0);
  await child.release();
  assert.is((await child.exited).exitCode, 0);
  await new Promise((r) => setImmediate(r));
  assert.is(Buffer.concat(out).toString(), '1 held\n');
});

test('the child does not inherit the parent fds beyond stdio', async () => {
  const r = await run('sh', ['-c', 'ls /proc/self/fd']);
  // 0, 1, 2 and the fd ls itself opened for /proc/self/fd.
  const fds = r.stdout.trim().split('\n').map(Number).filter((n) => n > 2);
  assert.ok(fds.length <= 1, `inherited: ${fds}`);
});

test('nothing left behind: mounts, child processes, fds', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
});

test.run();
