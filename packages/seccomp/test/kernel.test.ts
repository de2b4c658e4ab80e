// Filters installed for real, in children spawned by @ctr/ns (never in
// this process), checked against the kernel's behaviour.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, openSync, readFileSync, readSync, constants as fsc } from 'node:fs';
import { run, spawn as nsSpawn } from '@ctr/ns';
import { kernelSupport, Profile, SeccompAgent, sendListener, spawnOptions, spawn, type Program } from '../src/index';
import { isRoot, skip, snapshot, leftovers } from '../../../test-support';
import { cleanup, parseSc, scHelper, scratch } from './support';

const before = snapshot();

test('kernelSupport() matches /proc/sys/kernel/seccomp/actions_avail', () => {
  const s = kernelSupport();
  assert.is(s.available, /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8')));
  const file = '/proc/sys/kernel/seccomp/actions_avail';
  const want = existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/) : [];
  assert.equal(s.actions, want);
});

/** Run the helper with `calls` under `prog` (or unfiltered). */
async function sc(prog: Program | null, calls: string[]) {
  const r = await run(scHelper(), calls, prog ? spawnOptions(prog) : {});
  return { ...r, results: r.exitCode === 0 ? parseSc(r.stdout) : [] };
}

const SYS = { unshare: 272, mount: 165, keyctl: 250, add_key: 248, ptrace: 101, clone: 56, clone3: 435, personality: 135, socket: 41 };
const EPERM = 1;
const CLONE_NEWNS = 0x20000;
const CLONE_NEWUTS = 0x04000000;

test('the built-in default denies what Docker denies, in a child', async () => {
  const prog = await Profile.default().compile();
  const calls = [
    `${SYS.unshare},${CLONE_NEWUTS}`,
    `${SYS.mount},0,0,0,0,0`,
    `${SYS.keyctl},0,-3,0`,
    `${SYS.add_key},s:nosuchtype,s:k,0,0,-3`,
    `${SYS.clone},${CLONE_NEWNS | 17},0,0,0,0`,
    `${SYS.personality},0x40000`,
    `${SYS.socket},40,1,0`,
    `${SYS.clone3},0,0`,
    '32:310,0x04000000', // unshare through the i386 ABI
  ];
  const r = await sc(prog, calls);
  assert.is(r.exitCode, 0, r.stderr);
  const errnos = r.results.map((x) => x.errno);
  assert.equal(errnos, [EPERM, EPERM, EPERM, EPERM, EPERM, EPERM, EPERM, 38, EPERM], r.stdout);
  // Unfiltered (root), the same calls (but clone/clone3) get other answers:
  // the filter is what said EPERM.
  const plain = await sc(null, calls.filter((c) => !c.startsWith(`${SYS.clone}`) && !c.startsWith(`${SYS.clone3}`)));
  assert.is(plain.exitCode, 0, plain.stderr);
  for (const x of plain.results) assert.is.not(x.errno, EPERM, `unfiltered ${x.nr}: ${plain.stdout}`);
});

test('ptrace follows Docker\'s minKernel rule (allowed from 4.8)', async () => {
  const call = [`${SYS.ptrace},2,1,0,0`]; // PTRACE_PEEKDATA on pid 1: ESRCH when allowed
  const now = await sc(await Profile.default().compile(), call);
  const old = await sc(await Profile.default({ kernel: '4.4' }).compile(), call);
  assert.is(now.results[0].errno, 3, now.stdout);
  assert.is(old.results[0].errno, EPERM, old.stdout);
});

test('busybox sh, ls and node -e run unharmed under the built-in default', async () => {
  const opts = spawnOptions(await Profile.default().compile());
  const bb = await run('busybox', ['sh', '-c', 'ls / | grep -c . && cat /proc/self/status | grep -E "^(Seccomp|NoNewPrivs):"'], opts);
  assert.is(bb.exitCode, 0, bb.stderr);
  assert.match(bb.stdout, /Seccomp:\t2/);
  assert.match(bb.stdout, /NoNewPrivs:\t1/);
  const node = await run(process.execPath, ['-e', 'require("fs").writeFileSync(1, String(6 * 7) + require("os").hostname().length)'], opts);
  assert.is(node.exitCode, 0, node.stderr);
  assert.match(node.stdout, /^42\d+/);
});

const actions = Profile.fromOCI({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 },
    { names: ['getpgrp'], action: 'SCMP_ACT_KILL' },
    { names: ['getsid'], action: 'SCMP_ACT_KILL_PROCESS' },
    { names: ['getpgid'], action: 'SCMP_ACT_TRAP' },
    { names: ['syncfs'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
    { names: ['getegid'], action: 'SCMP_ACT_LOG' },
  ],
});

test('every action observed: errno, kill_thread, kill_process, trap, trace, log', async () => {
  const prog = await actions.compile();
  const r = await sc(prog, ['110', '108']);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.results[0].errno, 42); // errno(42)
  assert.is(r.results[1].errno, 0); // log: allowed
  for (const nr of [111, 124, 121]) {
    const k = await sc(prog, ['39', String(nr), '39']);
    assert.is(k.signal, 'SIGSYS', `${nr}: ${JSON.stringify(k)}`);
    assert.is(parseSc(k.stdout).length, 1, 'died at the filtered call'); // only the first getpid printed
  }
  // trace without a tracer: the kernel fails the call with ENOSYS
  const t = await sc(prog, ['306,0']);
  assert.is(t.results[0].errno, 38);
});

test('log action writes an audit record (where the kernel log is readable)', async () => {
  let fd: number;
  try {
    fd = openSync('/dev/kmsg', fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (e) {
    skip('log action', `/dev/kmsg not readable: ${(e as Error).message}`);
    return;
  }
  try {
    // skip to the end of the log
    const buf = Buffer.alloc(8192);
    const drain = (): string[] => {
      const lines: string[] = [];
      for (;;) {
        try {
          const n = readSync(fd, buf);
          if (n <= 0) return lines;
          lines.push(buf.subarray(0, n).toString());
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') return lines;
          if (code === 'EPIPE') continue; // overwritten records
          throw e;
        }
      }
    };
    drain();
    const prog = await actions.compile();
    // Without auditd the record goes through printk, which is rate
    // limited machine-wide: try a few times, spaced out.
    let found = false;
    let limited = false;
    let pid = 0;
    for (let attempt = 0; attempt < 3 && !found; attempt++) {
      if (attempt > 0) await new Promise((res) => setTimeout(res, 2500));
      const r = await sc(prog, ['108']);
      assert.is(r.exitCode, 0);
      assert.is(r.results[0].errno, 0, 'log allows the call');
      pid = r.pid;
      for (let i = 0; i < 50 && !found; i++) {
        const lines = drain();
        limited ||= lines.some((l) => /printk limit exceeded|callbacks suppressed/.test(l));
        found = lines.some((l) => l.includes('type=1326') && l.includes(`pid=${r.pid} `) && l.includes('syscall=108') && l.includes('code=0x7ffc0000'));
        if (!found) await new Promise((res) => setTimeout(res, 20));
      }
    }
    if (!found && !readFileSync('/proc/sys/kernel/seccomp/actions_logged', 'utf8').includes('log')) {
      skip('log action', 'the kernel does not log SECCOMP_RET_LOG (actions_logged)');
      return;
    }
    if (!found && limited) {
      skip('log action', 'the kernel log dropped audit records (printk rate limit) on this busy machine');
      return;
    }
    assert.ok(found, 'an audit record type=1326 for the helper\'s getegid');
    console.log(`  audit record seen for pid ${pid}`);
  } finally {
    closeSync(fd);
  }
});

test('notify: mkdir answered from JS returns the chosen value and no directory appears', async () => {
  const dir1 = `${scratch}/notify-a`;
  const dir2 = `${scratch}/notify-b`;
  const dir3 = `${scratch}/notify-c`;
  scHelper();
  const profile = Profile.fromOCI({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] });
  const { child, notifications } = await spawn(scHelper(), [`83,s:${dir1},0755`, `83,s:${dir2},0755`, `83,s:${dir3},0755`], { profile });
  assert.ok(notifications);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  const seen: string[] = [];
  try {
    for await (const req of notifications!) {
      assert.is(req.syscall, 'mkdir');
      assert.is(req.pid, child.pid);
      assert.is(req.arch, 'x86_64');
      assert.ok(req.isValid());
      const path = req.readString(0);
      seen.push(path);
      if (path === dir1) assert.ok(req.respondValue(1234));
      else if (path === dir2) assert.ok(req.respondErrno(13));
      else assert.ok(req.respondContinue());
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await notifications!.close();
  }
  const exit = await child.exited;
  await new Promise((r) => setImmediate(r));
  assert.is(exit.exitCode, 0);
  assert.equal(seen, [dir1, dir2, dir3]);
  const res = parseSc(Buffer.concat(out).toString());
  assert.equal(res.map((x) => [x.ret, x.errno]), [[1234, 0], [-1, 13], [0, 0]]);
  assert.not.ok(existsSync(dir1));
  assert.not.ok(existsSync(dir2));
  assert.ok(existsSync(dir3), 'continue let the kernel run mkdir');
});

test('evaluate agrees with the kernel on a table of calls (x86_64, i386 and x32)', async () => {
  const p = Profile.fromOCI({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 201 },
      { names: ['dup'], action: 'SCMP_ACT_ERRNO', errnoRet: 202, args: [{ index: 0, value: 100, op: 'SCMP_CMP_EQ' }] },
      { names: ['dup'], action: 'SCMP_ACT_ERRNO', errnoRet: 203, args: [{ index: 0, value: 200, op: 'SCMP_CMP_GT' }] },
      { names: ['dup2'], action: 'SCMP_ACT_ERRNO', errnoRet: 204, args: [{ index: 0, value: 5, op: 'SCMP_CMP_LT' }, { index: 1, value: 1000, op: 'SCMP_CMP_GE' }] },
      { names: ['fchdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 205, args: [{ index: 0, value: 300, op: 'SCMP_CMP_LE' }] },
      { names: ['fchdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 206, args: [{ index: 0, value: 400, op: 'SCMP_CMP_NE' }] },
      { names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: 207, args: [{ index: 0, value: 0xf0, valueTwo: 0x10, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['getpgid'], action: 'SCMP_ACT_TRAP' },
      { names: ['getsid'], action: 'SCMP_ACT_KILL_PROCESS' },
    ],
  });
  const prog = await p.compile();
  type Case = [string, number[]];
  const cases: Case[] = [
    ['getppid', []], ['getpid', []],
    ['dup', [100]], ['dup', [201]], ['dup', [150]], ['dup', [200]],
    ['dup2', [4, 1000]], ['dup2', [4, 999]], ['dup2', [5, 1000]],
    ['fchdir', [300]], ['fchdir', [301]], ['fchdir', [400]], ['fchdir', [-1]],
    ['umask', [0x12]], ['umask', [0x22]], ['umask', [0x1ff]],
    ['getpgid', [0]], ['getsid', [0]],
  ];
  let checked = 0;
  for (const arch of ['x86_64', 'x86', 'x32'] as const) {
    const batch: Array<{ c: Case; v: ReturnType<Profile['evaluate']> }> = [];
    for (const c of cases) {
      const v = p.evaluate({ syscall: c[0], args: c[1].map((a) => BigInt.asUintN(arch === 'x86' ? 32 : 64, BigInt(a))), arch });
      const spec = `${arch === 'x86' ? '32:' : ''}${[v.nr, ...c[1]].join(',')}`;
      if (v.action === 'trap' || v.action === 'kill_process' || v.action === 'kill_thread') {
        const k = await sc(prog, [spec]);
        assert.is(k.signal, 'SIGSYS', `${c[0]}${JSON.stringify(c[1])} on ${arch}`);
      } else batch.push({ c, v });
      checked++;
    }
    const r = await sc(prog, batch.map(({ c, v }) => `${arch === 'x86' ? '32:' : ''}${[v.nr, ...c[1]].join(',')}`));
    assert.is(r.exitCode, 0, r.stderr);
    batch.forEach(({ c, v }, i) => {
      const got = r.results[i];
      const what = `${c[0]}${JSON.stringify(c[1])} on ${arch}: evaluate ${v.action}${v.errno ?? ''}, kernel errno ${got.errno}`;
      if (v.action === 'errno') assert.is(got.errno, v.errno, what);
      else {
        assert.is(v.action, 'allow', what);
        assert.ok(got.errno < 201 || got.errno > 207, what);
      }
    });
  }
  console.log(`  ${checked} (syscall, args, arch) cases agree with the kernel`);
});

test('listenerPath: the listener fd and the state reach an agent, which answers', async () => {
  scHelper();
  const sock = `${scratch}/agent.sock`;
  const dir = `${scratch}/agent-dir`;
  const agent = SeccompAgent.listen(sock);
  try {
    const profile = Profile.fromOCI({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'ctrtest',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    });
    const prog = await profile.compile();
    const child = nsSpawn(scHelper(), [`83,s:${dir},0755`], { ...spawnOptions(prog), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    const fd = await new Promise<number>((res) => child.once('seccomp-listener', res));
    const accepted = agent.accept();
    const state = { ociVersion: '1.2.0', fds: ['seccompFd'], pid: child.pid, metadata: profile.json.listenerMetadata, state: { ociVersion: '1.2.0', id: `ctrtest-seccomp-${process.pid}`, status: 'creating', pid: child.pid, bundle: scratch } };
    await sendListener(profile.json.listenerPath!, fd, state);
    closeSync(fd); // the runtime's copy; the agent has its own now
    const conn = await accepted;
    try {
      assert.equal(conn.state, state);
      for await (const req of conn.listener) {
        assert.is(req.readString(0), dir);
        req.respondValue(7);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await conn.listener.close();
    }
    const exit = await child.exited;
    assert.is(exit.exitCode, 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(parseSc(Buffer.concat(out).toString()).map((x) => x.ret), [7]);
    assert.not.ok(existsSync(dir));
  } finally {
    agent.close();
  }
  assert.not.ok(existsSync(sock));
});

test('profile flags reach seccomp(2): LOG, SPEC_ALLOW, TSYNC, WAIT_KILLABLE_RECV', async () => {
  const plain = Profile.fromOCI({
    defaultAction: 'SCMP_ACT_ALLOW',
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
    syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 77 }],
  });
  const r = await sc(await plain.compile(), ['110']);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.results[0].errno, 77);
  // WAIT_KILLABLE_RECV needs a listener: with a notify rule it is accepted
  const notify = Profile.fromOCI({
    defaultAction: 'SCMP_ACT_ALLOW',
    flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }],
  });
  const { child, notifications, program } = await spawn(scHelper(), ['110'], { profile: notify, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.is(program.flags, 32 | 8);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  try {
    for await (const req of notifications!) req.respondErrno(78);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await notifications!.close();
  }
  assert.is((await child.exited).exitCode, 0);
  await new Promise((res) => setImmediate(res));
  assert.is(parseSc(Buffer.concat(out).toString())[0].errno, 78);
});

test('no leftovers', () => {
  cleanup();
  assert.equal(leftovers(before), []);
});

if (!isRoot) {
  skip('@ctr/seccomp kernel tests', 'need root (spawning children with @ctr/ns)');
} else {
  test.run();
}
