import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn, NsError, Terminal, type NsChildProcess } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot, exists, eventually } from '../../../test-support';

const rootfs = resolve(__dirname, '../../../.cache/rootfs/busybox');
let before: ReturnType<typeof snapshot>;
test.before(() => {
  before = snapshot();
});

/** fds of this process on a pty master (`/dev/ptmx` or `/dev/pts/ptmx`). */
function ptyMasters(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const t = readlinkSync(`/proc/self/fd/${fd}`);
      if (/ptmx$/.test(t)) out.push(`${fd} -> ${t}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

function output(t: Terminal): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    t.on('data', (c: Buffer) => chunks.push(c));
    t.on('error', rej);
    t.on('end', () => res(Buffer.concat(chunks).toString('utf8').replace(/\r\n/g, '\n')));
  });
}

async function finished(child: NsChildProcess): Promise<string> {
  const [out, r] = await Promise.all([output(child.terminal!), child.exited]);
  assert.is(r.exitCode, 0, out);
  return out;
}

test('the child runs on a pty: tty stdio, own session and controlling terminal, size', async () => {
  const child = spawn('sh', ['-c', '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-tty; tty; stty size; ps -o sid=,tty= -p $$'], {
    terminal: { cols: 132, rows: 43 },
  });
  assert.ok(child.terminal instanceof Terminal);
  assert.is(child.stdin, null);
  assert.is(child.stdout, null);
  const out = await finished(child);
  const lines = out.trim().split('\n').map((l) => l.trim());
  assert.is(lines[0], 'on-tty', out);
  assert.match(lines[1], /^\/dev\/pts\/\d+$/);
  assert.is(lines[2], '43 132');
  // procps: session id, then the controlling tty (pts/N).
  const [sid, tty] = lines[3].split(/\s+/);
  assert.is(Number(sid), child.pid, 'session leader');
  assert.is(`/dev/${tty}`, lines[1], 'controlling terminal is the pty');
});

test('what is written to the terminal is the child input; output comes back', async () => {
  const child = spawn('sh', ['-c', 'read -r line; echo "got:$line"'], { terminal: true });
  await child.spawned;
  child.terminal!.write('hello pty\n');
  const out = await finished(child);
  assert.ok(out.includes('got:hello pty\n'), out);
  // The line discipline echoes the input.
  assert.ok(out.includes('hello pty\n'), out);
});

test('resize is seen by stty size in the child', async () => {
  const child = spawn('sh', ['-c', 'read -r x; stty size'], { terminal: true });
  child.resize(100, 20); // before the pty exists: applied when it does
  await child.spawned;
  assert.equal(child.terminal!.size, { cols: 100, rows: 20 });
  child.resize(61, 17);
  child.terminal!.write('\n');
  const out = await finished(child);
  assert.ok(out.split('\n').includes('17 61'), out);
  assert.throws(() => child.resize(0, 10), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === 'terminal.cols');
});

test('in a busybox rootfs the pty is from the container devpts and is /dev/console', async () => {
  if (!isRoot) return skip('terminal rootfs', 'needs root');
  if (!exists(`${rootfs}/bin/busybox`)) return skip('terminal rootfs', 'busybox rootfs missing (bash scripts/make-rootfs.sh)');
  const child = spawn('/bin/sh', ['-c', "tty; stat -c '%t:%T' /dev/console; ls -1 /dev/pts"], {
    namespaces: ['mnt', 'pid', 'uts', 'ipc'],
    mountProc: true,
    rootfs,
    env: { PATH: '/bin:/sbin' },
    terminal: true,
  });
  const out = await finished(child);
  assert.equal(out.trim().split('\n'), ['/dev/pts/0', '88:0', '0', 'ptmx']);
});

test('destroying the terminal hangs up the child', async () => {
  const child = spawn('sh', ['-c', 'trap "exit 7" HUP; while :; do sleep 0.05; done'], { terminal: true });
  await child.spawned;
  child.terminal!.destroy();
  const r = await child.exited;
  assert.ok(r.exitCode === 7 || r.signal === 'SIGHUP', JSON.stringify(r));
});

test('option errors are coded; a failed spawn ends the terminal', async () => {
  assert.throws(() => spawn('true', [], { terminal: { cols: 80, rows: -1 } }), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === 'terminal.rows');
  assert.throws(() => spawn('true', [], { consoleSocket: 5 }), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === 'consoleSocket');
  const child = spawn('/nonexistent/prog', [], { terminal: true });
  child.on('error', () => undefined);
  await child.spawned.then(
    () => assert.unreachable('spawned'),
    (e: NsError) => assert.is(e.code, 'ENS_EXEC'),
  );
  assert.ok(await eventually(() => child.terminal!.destroyed));
});

test('Terminal.fromFd wraps a master and refuses what is not a terminal', async () => {
  const child = spawn('sh', ['-c', 'echo from-fd'], { terminal: true });
  await child.spawned;
  const fd = child.terminal!.takeFd();
  assert.ok(child.terminal!.destroyed);
  const t = Terminal.fromFd(fd);
  const out = await output(t);
  assert.is(out.trim(), 'from-fd');
  await child.exited;
  assert.throws(() => Terminal.fromFd(0x7ffff), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.errno === 9);
  const { openSync, closeSync } = await import('node:fs');
  const nul = openSync('/dev/null', 'r');
  try {
    assert.throws(() => Terminal.fromFd(nul), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && /not a terminal/.test(e.message));
  } finally {
    closeSync(nul);
  }
});

test('no pty master, child or fd is left', async () => {
  assert.ok(await eventually(() => ptyMasters().length === 0), ptyMasters().join(', '));
  assert.equal(nsLeftovers(before), []);
});

test.run();
