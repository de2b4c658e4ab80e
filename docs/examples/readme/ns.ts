import { spawn, run, enter, persistNamespace, releaseNamespace } from '@ctr/ns';
import { Profile } from '@ctr/seccomp';

// unshare --fork --pid --net --mount-proc
const child = spawn('sh', ['-c', 'echo $$; ip link'], { namespaces: ['pid', 'net'], mountProc: true, stdio: 'inherit' });
const { exitCode, signal } = await child.exited;

// A container-like sandbox: user namespace, busybox rootfs, dropped capabilities
const r = await run('/bin/sh', ['-c', 'id; ls /'], {
  namespaces: ['user', 'pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'],
  uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
  gidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
  hostname: 'box',
  mountProc: true,
  rootfs: {
    path: '/var/lib/images/busybox',
    readonly: true,
    mounts: [{ destination: '/tmp', type: 'tmpfs', options: ['nosuid', 'nodev', 'size=64m'] }],
    maskedPaths: ['/proc/kcore', '/proc/keys'],
    readonlyPaths: ['/proc/sys', '/proc/bus'],
  },
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  noNewPrivileges: true,
  rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
  env: { PATH: '/bin:/usr/bin' },
});

// The OCI create/start split: set up, do parent-side work with the pid, then run
const held = spawn('/bin/app', [], { namespaces: ['pid', 'net'], hold: true });
await held.spawned;          // set up and waiting before exec
/* configure held.pid's network, ... */
await held.release();        // exec happens now

// Join namespaces by path or pid, mixed with new ones
await run('ip', ['addr'], { join: { net: '/run/netns/blue' }, namespaces: ['pid'] });
// nsenter: every namespace of a running process that differs from ours
await enter(held.pid, 'hostname').exited;

// Keep a namespace alive without a process (like `ip netns add`)
await persistNamespace(held.pid, 'net', '/run/netns/kept');
await releaseNamespace('/run/netns/kept');

// seccomp: a raw BPF program (from @ctr/seccomp), optionally with a user-notification listener
const { bpf } = await Profile.default().compile();
const s = spawn('/bin/app', [], { seccomp: bpf, noNewPrivileges: true, seccompListener: true });
s.on('seccomp-listener', (fd) => { /* a SECCOMP_IOCTL_NOTIF_* supervisor owns fd */ });

// A pseudo-terminal (docker run -t): the pty is stdin/stdout/stderr and the
// controlling terminal; child.terminal is the master as a Duplex stream
const t = spawn('sh', [], { terminal: { cols: 120, rows: 40 }, rootfs: '/var/lib/images/busybox', namespaces: ['pid'] });
process.stdin.setRawMode(true);
process.stdin.pipe(t.terminal!);
t.terminal!.pipe(process.stdout);
process.stdout.on('resize', () => t.resize(process.stdout.columns, process.stdout.rows));
await t.exited;
// runc's --console-socket: send the master over a connected unix socket instead
declare const socketFd: number; // a connected unix socket
spawn('sh', [], { terminal: true, consoleSocket: socketFd });
