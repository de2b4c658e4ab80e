// tier: fast (no root, no kernel objects: runs in `npm run test:fast`)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile, SeccompError, compile, disassemble, syscallNames, clearCache, libseccompVersion, dockerDefault, spawnOptions } from '../src/index';
import { dockerDefaultPath } from './support';

const docker = () => JSON.parse(readFileSync(dockerDefaultPath, 'utf8')) as Record<string, unknown>;

function codeOf(fn: () => unknown): { code: string; path?: string } {
  try {
    fn();
  } catch (e) {
    assert.instance(e, SeccompError);
    const err = e as SeccompError;
    return { code: err.code, path: err.path };
  }
  throw new Error('expected an error');
}

test('bad profiles give coded errors naming the JSON path', () => {
  const ok = { names: ['read'], action: 'SCMP_ACT_ALLOW' };
  const cases: Array<[unknown, string, string]> = [
    [{ defaultAction: 'SCMP_ACT_NOPE' }, 'ESECCOMP_UNKNOWN_ACTION', 'defaultAction'],
    [{ defaultAction: 7 }, 'ESECCOMP_INVALID_TYPE', 'defaultAction'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 'x' }, 'ESECCOMP_INVALID_TYPE', 'defaultErrnoRet'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: {} }, 'ESECCOMP_INVALID_TYPE', 'syscalls'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ok, ok, { names: [], action: 'SCMP_ACT_ALLOW' }] }, 'ESECCOMP_EMPTY_NAMES', 'syscalls[2].names'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ALLOW' }] }, 'ESECCOMP_EMPTY_NAMES', 'syscalls[0].names[1]'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: 'read', action: 'SCMP_ACT_ALLOW' }] }, 'ESECCOMP_INVALID_TYPE', 'syscalls[0].names'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ok, { names: ['x'], action: 'SCMP_ACT_EXPLODE' }] }, 'ESECCOMP_UNKNOWN_ACTION', 'syscalls[1].action'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ok, ok, ok, { names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, 'ESECCOMP_INVALID_ARG_INDEX', 'syscalls[3].args[1].index'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ok, ok, ok, { names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: '==' }] }] }, 'ESECCOMP_UNKNOWN_OPERATOR', 'syscalls[3].args[0].op'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: '1', op: 'SCMP_CMP_EQ' }] }] }, 'ESECCOMP_INVALID_TYPE', 'syscalls[0].args[0].value'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ' }] }] }, 'ESECCOMP_MISSING_FIELD', 'syscalls[0].args[0].value'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'] }] }, 'ESECCOMP_MISSING_FIELD', 'syscalls[0].action'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX'] }, 'ESECCOMP_UNKNOWN_ARCH', 'architectures[1]'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, 'ESECCOMP_UNKNOWN_FLAG', 'flags[0]'],
    [{ defaultAction: 'SCMP_ACT_NOTIFY' }, 'ESECCOMP_INVALID_VALUE', 'defaultAction'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_NOPE'] }] }, 'ESECCOMP_UNKNOWN_ARCH', 'archMap[0].subArchitectures[0]'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', includes: { caps: 'CAP_X' } }] }, 'ESECCOMP_INVALID_TYPE', 'syscalls[0].includes.caps'],
  ];
  for (const [json, code, path] of cases) {
    const got = codeOf(() => Profile.parse(json as object));
    assert.equal(got, { code, path }, JSON.stringify(json));
  }
  assert.is(codeOf(() => Profile.parse('{"defaultAction":')).code, 'ESECCOMP_INVALID_JSON');
  assert.is(codeOf(() => Profile.default().evaluate({ syscall: 'no_such_call' })).path, 'syscall');
  assert.is(codeOf(() => Profile.default({ arch: 'pdp11' })).path, 'arch');
});

test('Docker profiles resolve by caps, arch and kernel like Docker', () => {
  const d = docker();
  const has = (p: Profile, name: string) => (p.json.syscalls ?? []).filter((r) => r.names.includes(name));
  const host = Profile.fromDocker(d);
  assert.equal(host.json.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.is(host.json.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(host.json.defaultErrnoRet, 1);
  assert.is(has(host, 'mount').length, 0);
  assert.is(has(Profile.fromDocker(d, { caps: ['CAP_SYS_ADMIN'] }), 'mount').length, 1);
  assert.is(has(host, 'ptrace').length, 1);
  assert.is(has(Profile.fromDocker(d, { kernel: '4.4' }), 'ptrace').length, 0);
  assert.is(has(Profile.fromDocker(d, { arch: 'aarch64' }), 'arch_prctl').length, 0);
  assert.equal(Profile.fromDocker(d, { arch: 'arm64' }).json.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  // auto-detected format; the shipped copy is the shared file
  assert.equal(Profile.parse(d).json, host.json);
  assert.equal(dockerDefault(), d);
});

test('built-in default and Docker default.json agree on every syscall libseccomp knows', () => {
  const builtin = Profile.default();
  const fromFile = Profile.fromDocker(docker());
  let compared = 0;
  for (const arch of ['x86_64', 'x86', 'x32'] as const) {
    for (const name of syscallNames(arch)) {
      let a, b;
      try {
        a = builtin.evaluate({ syscall: name, arch });
      } catch (e) {
        // pseudo-numbered names (e.g. socketcall on x86_64) have no number here
        assert.is((e as SeccompError).code, 'ESECCOMP_UNKNOWN_SYSCALL');
        continue;
      }
      b = fromFile.evaluate({ syscall: name, arch });
      assert.equal([a.action, a.errno], [b.action, b.errno], `${name} on ${arch}`);
      if (arch === 'x86_64') compared++;
    }
  }
  console.log(`  compared ${compared} x86_64 syscall names (libseccomp ${libseccompVersion()})`);
  assert.ok(compared > 300, `only ${compared} names`);
});

test('evaluate explains decisions by rule, for every action and operator', () => {
  const p = Profile.fromOCI({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' },
      { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 },
      { names: ['getpgrp'], action: 'SCMP_ACT_KILL' },
      { names: ['getsid'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['getpgid'], action: 'SCMP_ACT_TRAP' },
      { names: ['syncfs'], action: 'SCMP_ACT_TRACE', errnoRet: 9 },
      { names: ['getegid'], action: 'SCMP_ACT_LOG' },
      { names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: 6, args: [{ index: 0, value: 0xf0, valueTwo: 0x10, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
  const v = (syscall: string, args: number[] = [], arch: 'x86_64' | 'x86' = 'x86_64') => p.evaluate({ syscall, args, arch });
  assert.equal([v('mkdir').action, v('mkdir').rule], ['notify', 0]);
  assert.equal([v('getppid').action, v('getppid').errno, v('getppid').rule], ['errno', 42, 1]);
  assert.is(v('getpgrp').action, 'kill_thread');
  assert.is(v('getsid').action, 'kill_process');
  assert.is(v('getpgid').action, 'trap');
  assert.equal([v('syncfs').action, v('syncfs').traceData], ['trace', 9]);
  assert.is(v('getegid').action, 'log');
  assert.equal([v('umask', [0x1ff]).action, v('umask', [0x11]).errno, v('umask', [0x11]).rule], ['allow', 6, 7]);
  assert.equal([v('read').action, v('read').rule], ['allow', null]);
  assert.is(v('getppid', [], 'x86').nr, 64);
  assert.is(v('getppid', [], 'x86').errno, 42);
  // a 64-bit argument
  assert.is(p.evaluate({ syscall: 'umask', args: [0xffffffff00000010n] }).errno, 6);
  // by number
  assert.is(p.evaluate({ syscall: 110 }).errno, 42);
});

test('compile: flags, warnings, binary tree, disassembly', async () => {
  const p = Profile.fromOCI({
    defaultAction: 'SCMP_ACT_ALLOW',
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' },
      { names: ['getppid', 'not_a_syscall_at_all'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 },
    ],
  });
  const prog = await p.compile();
  assert.is(prog.flags, 2 | 4 | 8);
  assert.equal(prog.warnings, ['syscalls[1].names[1]: unknown system call "not_a_syscall_at_all" skipped']);
  assert.equal(spawnOptions(prog), { seccomp: prog.bpf, seccompFlags: 6, seccompListener: true, noNewPrivileges: true });
  const listing = disassemble(prog.bpf);
  assert.match(listing, /ld +\[4\] +; arch/);
  assert.match(listing, /ERRNO\(42\)/);
  assert.match(listing, /NOTIFY/);
  const big = Profile.default();
  const tree = big.compileSync({ binaryTree: true });
  const flat = big.compileSync({ binaryTree: false });
  assert.is.not(tree.hash, flat.hash);
  assert.not.equal(tree.bpf, flat.bpf);
  // cross-compiled for arm64: the program checks AUDIT_ARCH_AARCH64/ARM only
  const arm = disassemble(Profile.default({ arch: 'arm64' }).compileSync({ arch: 'aarch64' }).bpf);
  assert.match(arm, /0xc00000b7/);
  assert.not.match(arm, /0xc000003e/);
  assert.throws(() => big.compileSync({ arch: 'vax' }), (e: SeccompError) => e.code === 'ESECCOMP_UNKNOWN_ARCH' && e.path === 'arch');
  assert.throws(() => disassemble(Buffer.alloc(5)), (e: SeccompError) => e.code === 'ESECCOMP_INVALID_BPF');
});

test('compileSync: a profile remembers its programs; copies the caller may change; clearCache forgets them', () => {
  const p = Profile.fromOCI({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: (process.pid % 4000) + 1 }] });
  clearCache();
  const a = p.compileSync();
  const b = p.compileSync();
  assert.equal([a.cache, b.cache], ['miss', 'memory']);
  assert.equal(b.bpf, a.bpf);
  b.bpf.fill(0);
  b.warnings.push('changed');
  const c = p.compileSync();
  assert.equal(c.bpf, a.bpf, 'the remembered program is not the one handed out');
  assert.equal(c.warnings, a.warnings);
  // other options are another program
  assert.is(p.compileSync({ binaryTree: false }).cache, 'miss');
  clearCache();
  assert.is(p.compileSync().cache, 'miss');
});

test('cache: memory hit, then disk hit after the memory cache is dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrtest-seccomp-cache-'));
  try {
    const p = Profile.fromOCI({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: process.pid % 4000 }] });
    const a = await compile(p, { cacheDir: dir });
    const b = await compile(p, { cacheDir: dir });
    clearCache();
    const c = await compile(p, { cacheDir: dir });
    assert.equal([a.cache, b.cache, c.cache], ['miss', 'memory', 'disk']);
    assert.equal(a.bpf, c.bpf);
    assert.equal(readdirSync(dir), [`${a.hash}.json`]);
    // a different profile is a different key
    const other = await compile({ defaultAction: 'SCMP_ACT_ALLOW' }, { cacheDir: dir });
    assert.is.not(other.hash, a.hash);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
