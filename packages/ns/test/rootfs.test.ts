import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run, spawn, NsError, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../src/index';
import type { SpawnOptions } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot, mountPoints } from '../../../test-support';

const repo = resolve(__dirname, '../../..');
const busybox = join(repo, '.cache/rootfs/busybox');
const base = `/tmp/ctrtest-ns-${process.pid}-rootfs`;
const rootfs = join(base, 'root');
const outside = join(base, 'outside');
const before = snapshot();
const ready = isRoot && existsSync(join(busybox, 'bin/busybox'));
const why = isRoot ? 'busybox rootfs missing (bash scripts/make-rootfs.sh)' : 'needs root';

if (ready) {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(outside, { recursive: true });
  // A private copy: tests plant symlinks in it.
  cpSync(busybox, rootfs, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(rootfs, 'etc/secret'), 'top secret\n');
  symlinkSync(outside, join(rootfs, 'escape-abs'));
  symlinkSync('../../../../../../../..' + outside, join(rootfs, 'escape-rel'));
  mkdirSync(join(base, 'share'));
  writeFileSync(join(base, 'share/file'), 'shared\n');
}

const sh = (script: string, opts: SpawnOptions = {}) => run('/bin/sh', ['-c', script], { namespaces: ['pid', 'mnt'], env: { PATH: '/bin:/sbin:/usr/bin' }, ...opts });

test('busybox rootfs with pivot_root: the host is unreachable, /proc is the new one', async () => {
  if (!ready) return skip('pivot', why);
  const r = await sh('ls /; echo --; cat /etc/hostname; ls /work 2>&1; echo $$; wc -l < /proc/self/mountinfo', { rootfs, mountProc: true });
  assert.is(r.exitCode, 0, r.stderr);
  const [ls, rest] = r.stdout.split('--\n');
  assert.equal(ls.trim().split('\n').sort(), readdirSync(rootfs).filter((n) => !n.startsWith('.')).sort());
  const lines = rest.trim().split('\n');
  assert.is(lines[0], 'ctr');
  assert.match(lines[1], /No such file or directory/);
  assert.is(lines[2], '1');
  // Only the rootfs, /dev and its children, /proc: no host mounts.
  assert.ok(Number(lines[3]) <= 6, `mounts inside: ${lines[3]}`);
});

test('noPivot: MS_MOVE + chroot also hides the host', async () => {
  if (!ready) return skip('nopivot', why);
  const r = await sh('ls /work 2>&1; cat /etc/hostname', { rootfs: { path: rootfs, noPivot: true } });
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /No such file or directory\nctr\n/);
});

test('masked paths read empty, read-only paths and a read-only root refuse writes', async () => {
  if (!ready) return skip('mask', why);
  const r = await sh(
    [
      'echo "kcore:$(head -c 10 /proc/kcore | wc -c)"',
      'echo "secret:$(cat /etc/secret)"',
      'echo "acpi:$(ls /proc/acpi | wc -l)"',
      'echo x > /proc/sys/kernel/hostname 2>/dev/null && echo sys:written || echo sys:refused',
      'touch /newfile 2>/dev/null && echo root:written || echo root:refused',
      'touch /dev/shm/ok && echo shm:written',
      'echo "firmware:$(ls /sys/firmware | wc -l)"',
    ].join('; '),
    {
      mountProc: true,
      namespaces: ['pid', 'mnt', 'uts'],
      rootfs: {
        path: rootfs,
        readonly: true,
        mounts: [{ destination: '/sys', type: 'sysfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] }],
        maskedPaths: [...DEFAULT_MASKED_PATHS, '/etc/secret', '/does/not/exist'],
        readonlyPaths: [...DEFAULT_READONLY_PATHS],
      },
    },
  );
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /kcore:0\n/);
  assert.match(r.stdout, /secret:\n/);
  assert.match(r.stdout, /acpi:0\n/);
  assert.match(r.stdout, /sys:refused/);
  assert.match(r.stdout, /root:refused/);
  assert.match(r.stdout, /shm:written/);
  assert.match(r.stdout, /firmware:0\n/);
  assert.not.ok(existsSync(join(rootfs, 'newfile')));
});

test('/dev has the standard nodes and links, and /dev/null works', async () => {
  if (!ready) return skip('dev', why);
  const script = 'echo gone > /dev/null; wc -c < /dev/null; head -c 4 /dev/zero | wc -c; ls -l /dev/null /dev/zero /dev/urandom | cut -c1; readlink /dev/fd; readlink /dev/ptmx; ls -d /dev/pts /dev/shm';
  for (const userns of [false, true]) {
    const r = await sh(script, {
      rootfs,
      namespaces: userns ? ['user', 'pid', 'mnt'] : ['pid', 'mnt'],
      uidMap: userns ? [{ containerID: 0, hostID: 100000, size: 65536 }] : undefined,
      gidMap: userns ? [{ containerID: 0, hostID: 100000, size: 65536 }] : undefined,
    });
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, '0\n4\nc\nc\nc\n/proc/self/fd\npts/ptmx\n/dev/pts\n/dev/shm\n', `userns=${userns}`);
  }
});

test('a symlink planted as a mount destination pointing outside does not escape', async () => {
  if (!ready) return skip('symlink', why);
  const r = await sh('echo in > /escape-abs/data/f && echo in > /escape-rel/data/g && ls /escape-abs/data', {
    rootfs: {
      path: rootfs,
      mounts: [
        { destination: '/escape-abs/data', type: 'tmpfs', options: ['size=1m'] },
        { destination: '/escape-rel/data', type: 'tmpfs' },
      ],
    },
  });
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, 'f\ng\n');
  // Nothing happened outside the rootfs ...
  assert.equal(readdirSync(outside), []);
  assert.not.ok(mountPoints().some((m) => m.startsWith(base)));
  // ... the mount points were made inside it instead.
  assert.ok(existsSync(join(rootfs, outside, 'data')));
});

test('mounts: ro bind of a host dir, tmpfs with data, proc, sysfs ro, mqueue, with propagation', async () => {
  if (!ready) return skip('mounts', why);
  const r = await sh(
    'cat /mnt/share/file; echo x > /mnt/share/file 2>/dev/null || echo bind:ro; grep -E " /(mnt/share|tmp|sys|dev/mqueue) " /proc/self/mountinfo | cut -d" " -f5,6,7,9 | sort',
    {
      namespaces: ['pid', 'mnt', 'ipc', 'net'],
      mountProc: true,
      rootfs: {
        path: rootfs,
        propagation: 'slave',
        mounts: [
          { destination: '/mnt/share', source: join(base, 'share'), options: ['rbind', 'ro', 'nosuid', 'rprivate'] },
          { destination: '/tmp', type: 'tmpfs', options: ['nosuid', 'nodev', 'size=2m', 'mode=1777'] },
          { destination: '/sys', type: 'sysfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] },
          { destination: '/dev/mqueue', type: 'mqueue', options: ['nosuid', 'nodev', 'noexec'] },
        ],
      },
    },
  );
  assert.is(r.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'shared');
  assert.is(lines[1], 'bind:ro');
  const mounts = lines.slice(2).join('\n');
  assert.match(mounts, /\/dev\/mqueue rw,nosuid,nodev,noexec/);
  assert.match(mounts, /\/mnt\/share ro,nosuid/);
  assert.match(mounts, /\/sys ro,nosuid,nodev,noexec/);
  assert.match(mounts, /\/tmp rw,nosuid,nodev/);
  assert.not.ok(existsSync(join(base, 'share/x')));
});

test('overlay and cgroup2 mounts', async () => {
  if (!ready) return skip('overlay', why);
  for (const d of ['lower', 'upper', 'work']) mkdirSync(join(base, d), { recursive: true });
  writeFileSync(join(base, 'lower/from-lower'), 'lower\n');
  const r = await sh('cat /mnt/ovl/from-lower; echo up > /mnt/ovl/from-upper; ls /mnt/ovl; grep -c " - cgroup2 " /proc/self/mountinfo', {
    namespaces: ['pid', 'mnt', 'cgroup'],
    mountProc: true,
    rootfs: {
      path: rootfs,
      mounts: [
        { destination: '/mnt/ovl', type: 'overlay', source: 'overlay', options: [`lowerdir=${base}/lower`, `upperdir=${base}/upper`, `workdir=${base}/work`] },
        { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: ['nosuid', 'nodev', 'noexec'] },
      ],
    },
  });
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, 'lower\nfrom-lower\nfrom-upper\n1\n');
  // The write went to the upper dir on the host; the lower is untouched.
  assert.ok(existsSync(join(base, 'upper/from-upper')));
  assert.not.ok(existsSync(join(base, 'lower/from-upper')));
});

test('errors: a missing rootfs, a missing bind source, a refused mount — coded, nothing left mounted', async () => {
  if (!ready) return skip('errors', why);
  assert.throws(() => spawn('/bin/true', [], { rootfs: '/nonexistent/ctr-rootfs' }), (e: NsError) => e.code === 'ENS_ROOTFS' && e.errno === 2 && e.path === '/nonexistent/ctr-rootfs');
  assert.throws(
    () => spawn('/bin/true', [], { rootfs: { path: rootfs, mounts: [{ destination: '/x', source: '/nonexistent/src', options: ['bind'] }] } }),
    (e: NsError) => e.code === 'ENS_MOUNT' && e.path === '/nonexistent/src',
  );
  const child = spawn('/bin/true', [], { stdio: 'ignore', rootfs: { path: rootfs, mounts: [{ destination: '/mnt/bad', type: 'ctr-no-such-fs' }] } });
  const err = await child.spawned.then(() => null, (e: NsError) => e);
  assert.instance(err, NsError);
  assert.is(err!.code, 'ENS_MOUNT');
  assert.is(err!.errno, 19); // ENODEV
  assert.is(err!.syscall, 'mount');
  assert.is(err!.path, join(rootfs, 'mnt/bad'));
  assert.match(err!.message, /ctr-no-such-fs on \/mnt\/bad/);
  assert.not.ok(existsSync(`/proc/${child.pid}`));
  assert.not.ok(mountPoints().some((m) => m.startsWith(base)));
});

test('mount extensions: rro reaches submounts, tmpcopyup copies what it covers, idmap maps owners', async () => {
  if (!ready) return skip('mount extensions', why);
  // A bind source with a submount (a tmpfs mounted inside the container first).
  mkdirSync(join(base, 'ext/sub'), { recursive: true });
  mkdirSync(join(rootfs, 'mnt'), { recursive: true });
  writeFileSync(join(base, 'ext/owned'), 'x');
  chownSync(join(base, 'ext/owned'), 5, 7);
  const r = await sh(
    [
      'touch /mnt/sub/f 2>/dev/null && echo sub=rw || echo sub=ro',
      'echo "etc:$(cat /etc/secret)"',
      'echo new > /etc/new && echo etc=rw',
      'grep " /etc " /proc/self/mountinfo | grep -c "tmpfs tmpfs"',
    ].join('; '),
    {
      rootfs: {
        path: rootfs,
        readonly: true,
        mounts: [
          { destination: '/mnt', type: 'bind', source: join(base, 'ext'), options: ['rbind'] },
          { destination: '/mnt/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          // Bound again with rro: the tmpfs under it comes along read-only.
          { destination: '/mnt', type: 'bind', source: join(rootfs, 'mnt'), options: ['rbind', 'rro'] },
          { destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid'] },
        ],
      },
      mountProc: true,
    },
  );
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, 'sub=ro\netc:top secret\netc=rw\n1\n');
  assert.not.ok(existsSync(join(rootfs, 'etc/new')), 'the rootfs /etc is untouched');
  const ids = {
    destination: '/ids', type: 'bind', source: join(base, 'ext'), options: ['bind', 'idmap'],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 10 }],
  };
  const m = await sh('stat -c "%u %g" /ids/owned', { rootfs: { path: rootfs, mounts: [ids] } }).catch((e: NsError) => e);
  assert.not.ok(mountPoints().some((p) => p.startsWith(base)));
  if (m instanceof NsError && /does not support id-mapped mounts/.test(m.message)) return skip('mount extensions idmap', m.message);
  assert.ok(!(m instanceof Error), String(m));
  assert.is((m as { stdout: string }).stdout, '1005 2007\n');
});

test('a missing binary inside the rootfs is ENS_EXEC', async () => {
  if (!ready) return skip('exec', why);
  const child = spawn('/usr/bin/ctr-not-here', [], { stdio: 'ignore', rootfs });
  const err = await child.spawned.then(() => null, (e: NsError) => e);
  assert.is(err?.code, 'ENS_EXEC');
  assert.is(err?.errno, 2);
});

test('cleanup and nothing left behind', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
  rmSync(base, { recursive: true, force: true });
});

test.run();
