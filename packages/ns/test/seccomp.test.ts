import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, readlinkSync } from 'node:fs';
import { run, spawn, NsError } from '../src/index';
import { snapshot } from '../../../test-support';
import { nsLeftovers } from './support';

// Raw classic BPF, as @ctr/seccomp will produce it: struct sock_filter[].
const AUDIT_ARCH_X86_64 = 0xc000003e;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const RET_USER_NOTIF = 0x7fc00000;
const SYS_mkdir = 83;
const SYS_mkdirat = 258;
const EXDEV = 18;

function bpf(insns: Array<[number, number, number, number]>): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

/** `action` for mkdir/mkdirat, allow everything else. */
function mkdirFilter(action: number): Buffer {
  return bpf([
    [0x20, 0, 0, 4],
    [0x15, 0, 3, AUDIT_ARCH_X86_64],
    [0x20, 0, 0, 0],
    [0x15, 2, 0, SYS_mkdir],
    [0x15, 1, 0, SYS_mkdirat],
    [0x06, 0, 0, RET_ALLOW],
    [0x06, 0, 0, action],
  ]);
}

const before = snapshot();
const dir = `/tmp/ctrtest-ns-${process.pid}-seccomp`;

test('seccomp: a filter returning ERRNO fails that syscall in the child only', async () => {
  const r = await run('sh', ['-c', `mkdir ${dir} 2>&1; echo rc=$?; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status`], {
    seccomp: mkdirFilter(RET_ERRNO | EXDEV),
    noNewPrivileges: true,
  });
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Invalid cross-device link/);
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stdout, /Seccomp:\t2/);
  assert.match(r.stdout, /NoNewPrivs:\t1/);
  assert.not.ok(existsSync(dir));
});

test('noNewPrivileges alone sets NoNewPrivs', async () => {
  const r = await run('grep', ['NoNewPrivs:', '/proc/self/status'], { noNewPrivileges: true });
  assert.is(r.stdout.trim(), 'NoNewPrivs:\t1');
  const plain = await run('grep', ['NoNewPrivs:', '/proc/self/status']);
  assert.is(plain.stdout.trim(), 'NoNewPrivs:\t0');
});

test('seccompFlags reach seccomp(2): WAIT_KILLABLE_RECV without a listener is EINVAL', async () => {
  const child = spawn('true', [], { stdio: 'ignore', seccomp: mkdirFilter(RET_ALLOW), noNewPrivileges: true, seccompFlags: 32 });
  const err = await child.spawned.then(() => null, (e: NsError) => e);
  assert.instance(err, NsError);
  assert.is(err!.code, 'ENS_SECCOMP');
  assert.is(err!.errno, 22);
  assert.is(err!.syscall, 'seccomp');
  // LOG | TSYNC are accepted.
  const ok = await run('true', [], { seccomp: mkdirFilter(RET_ALLOW), noNewPrivileges: true, seccompFlags: 2 | 1 });
  assert.is(ok.exitCode, 0);
});

test('seccomp options are validated before the clone', () => {
  assert.throws(() => spawn('true', [], { seccomp: Buffer.alloc(7) }), (e: NsError) => e.code === 'ENS_INVALID_OPTION' && e.path === 'seccomp');
  assert.throws(() => spawn('true', [], { seccomp: 'x' as never }), (e: NsError) => e.path === 'seccomp');
  assert.throws(() => spawn('true', [], { seccompListener: true }), (e: NsError) => e.path === 'seccompListener');
  assert.throws(() => spawn('true', [], { seccomp: mkdirFilter(RET_ALLOW), seccompFlags: 8 }), (e: NsError) => e.path === 'seccompFlags');
  assert.throws(() => spawn('true', [], { seccomp: mkdirFilter(RET_ALLOW), seccompFlags: -1 }), (e: NsError) => e.path === 'seccompFlags');
});

test('seccompListener: the fd is a real seccomp notify fd; closing it fails notified syscalls with ENOSYS', async () => {
  const child = spawn('sh', ['-c', `mkdir ${dir} 2>&1; echo rc=$?`], {
    stdio: ['ignore', 'pipe', 'inherit'],
    seccomp: mkdirFilter(RET_USER_NOTIF),
    noNewPrivileges: true,
    seccompListener: true,
  });
  const announced = new Promise<number>((r) => child.once('seccomp-listener', r));
  const out: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  await child.spawned;
  const fd = child.seccompListenerFd!;
  assert.is(await announced, fd);
  assert.ok(fd > 2);
  assert.is(readlinkSync(`/proc/self/fd/${fd}`), 'anon_inode:seccomp notify');
  // The child is now blocked in mkdir waiting for a supervisor.
  await new Promise((r) => setTimeout(r, 50));
  assert.is(out.length, 0);
  closeSync(fd);
  const { exitCode } = await child.exited;
  await new Promise((r) => (child.stdout!.closed ? r(undefined) : child.stdout!.once('close', r)));
  assert.is(exitCode, 0);
  assert.match(Buffer.concat(out).toString(), /Function not implemented[\s\S]*rc=1/);
  assert.not.ok(existsSync(dir));
});

test('seccompListener with hold: the fd comes first, then the gate', async () => {
  const child = spawn('true', [], { stdio: 'ignore', seccomp: mkdirFilter(RET_USER_NOTIF), noNewPrivileges: true, seccompListener: true, hold: true });
  await child.spawned;
  const fd = child.seccompListenerFd!;
  try {
    assert.is(readlinkSync(`/proc/self/fd/${fd}`), 'anon_inode:seccomp notify');
    await child.release();
    assert.is((await child.exited).exitCode, 0);
  } finally {
    closeSync(fd);
  }
});

test('nothing left behind', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
});

test.run();
