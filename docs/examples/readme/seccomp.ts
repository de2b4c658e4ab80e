import { Profile, SeccompError, spawn, spawnOptions, disassemble } from '@ctr/seccomp';
import { run } from '@ctr/ns';
import { readFileSync } from 'node:fs';

// The built-in default: Docker's default profile, resolved for Docker's
// default capabilities, this architecture and this kernel.
const profile = Profile.default();
const program = await profile.compile();            // { bpf, flags, warnings, hash, cache }

// Run a child under it (no_new_privs + the filter, installed last before exec).
const r = await run('busybox', ['unshare', '-u', 'true'], spawnOptions(program));
r.exitCode; // 1: unshare(CLONE_NEWUTS) got EPERM

// Ask what the filter does with a call, and which rule decided.
profile.evaluate({ syscall: 'socket', args: [40 /* AF_VSOCK */] });
// -> { action: 'errno', errno: 1, rule: null, nr: 41, name: 'socket', ret: 327681 }
console.log(disassemble(program.bpf));              // 0000: ld [4] ; arch ...

// Docker's format, resolved for other capabilities / arch / kernel.
const json = JSON.parse(readFileSync('default.json', 'utf8')); // Docker's profile
const admin = Profile.fromDocker(json, { caps: ['CAP_SYS_ADMIN'], arch: 'x86_64', kernel: '5.10' });

// OCI's linux.seccomp object; errors name the JSON path.
try {
  Profile.fromOCI({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['dup'], action: 'SCMP_ACT_ERRNO', args: [{ index: 7, value: 1, op: 'SCMP_CMP_EQ' }] }] });
} catch (e) {
  if (!(e instanceof SeccompError)) throw e;
  e.code; // 'ESECCOMP_INVALID_ARG_INDEX'
  e.path; // 'syscalls[0].args[0].index'
}

// User notification: answer mkdir from JS.
const { child, notifications } = await spawn('busybox', ['mkdir', '/tmp/x'], {
  profile: Profile.fromOCI({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] }),
});
for await (const req of notifications!) {
  console.log(req.syscall, req.readString(req.syscall === 'mkdirat' ? 1 : 0));
  req.respondValue(0);        // or respondErrno(13), or respondContinue()
}
await child.exited;           // mkdir "succeeded"; /tmp/x does not exist
