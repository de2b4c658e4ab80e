import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Terminal } from '@ctr/ns';
import { Container, configFor, run } from '../src/index';
import { snapshot, eventually } from '../../../test-support';
import { leftovers, ready, rootfs, workspace } from './support';

const ws = workspace('term');
const { root, newId } = ws;
const before = snapshot();

function ptyMasters(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).endsWith('ptmx');
    } catch {
      return false;
    }
  }).length;
}

test('configFor: terminal sets process.terminal, consoleSize and a devpts mount', () => {
  const c = configFor({ rootfs: '/r', args: ['sh'], terminal: { cols: 90, rows: 30 } }) as {
    process: { terminal?: boolean; consoleSize?: unknown };
    mounts: { destination: string; type: string }[];
  };
  assert.is(c.process.terminal, true);
  assert.equal(c.process.consoleSize, { width: 90, height: 30 });
  assert.ok(c.mounts.some((m) => m.destination === '/dev/pts' && m.type === 'devpts'));
  const plain = configFor({ rootfs: '/r', args: ['sh'] }) as { process: { terminal?: boolean } };
  assert.is(plain.process.terminal, undefined);
  assert.throws(() => configFor({ rootfs: '/r', args: ['sh'], terminal: { cols: 0, rows: 3 } }), /terminal/);
});

test('Container.create({ terminal }) exposes the master: a busybox sh on a tty, input, resize', async () => {
  if (!ready('container terminal')) return;
  const c = await Container.create({
    id: newId(),
    root,
    rootfs,
    args: ['sh', '-c', 'tty; [ -t 0 ] && echo on-tty; stty size; read -r x; echo got:$x; stty size'],
    terminal: { cols: 100, rows: 25 },
  });
  try {
    assert.ok(c.terminal instanceof Terminal);
    assert.is(c.stdout, null);
    const chunks: Buffer[] = [];
    c.terminal!.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise((r) => c.terminal!.on('end', r));
    const text = () => Buffer.concat(chunks).toString().replace(/\r\n/g, '\n');
    await c.start();
    assert.ok(await eventually(() => text().includes('25 100\n')), text());
    c.terminal!.resize(70, 12);
    c.terminal!.write('hello\n');
    const exit = await c.wait();
    await ended;
    assert.is(exit.exitCode, 0, text());
    const lines = text().trim().split('\n');
    assert.equal(lines, ['/dev/pts/0', 'on-tty', '25 100', 'hello', 'got:hello', '12 70']);
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => ptyMasters() === 0), 'no pty master left');
});

test('run({ terminal }) collects what came through the pty', async () => {
  if (!ready('run terminal')) return;
  const r = await run({ id: newId(), root, rootfs, args: ['sh', '-c', 'tty; echo out; echo err >&2'], terminal: true });
  assert.is(r.status, 0);
  assert.is(r.stdout, '/dev/pts/0\r\nout\r\nerr\r\n');
  assert.is(r.stderr, '');
});

test('nothing left', async () => {
  assert.ok(await eventually(() => ptyMasters() === 0));
  assert.equal(leftovers(before), []);
  assert.equal(existsSync(root) ? readdirSync(root) : [], []);
  ws.remove();
});

test.run();
