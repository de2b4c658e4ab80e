// Rootless containers end to end (docs/runtime.md, "Rootless"): a test user
// with subordinate id ranges (made here, removed afterwards) runs `ctrun`
// and an unprivileged Node process running @ctr/runtime. Checked: uid 0
// inside is the user outside, newuidmap gives the whole subuid range,
// loopback-only networking, state under $XDG_RUNTIME_DIR/ctrun, root's
// containers out of sight, limits refused without a delegated cgroup and
// enforced in a delegated cgroup2 subtree (pure v2 hosts, e.g. the v2 guest),
// and nothing left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, openSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CTRUN_PATH } from '../src/index';
import { rootfs, workspace, leftovers } from './support';
import { cgroupLayout, cgroupMounts, isRoot, skip, snapshot, vmProfile } from '../../../test-support';
// @ts-expect-error plain ESM script without types
import { makeOciImage, IMAGE_NAME } from '../../../scripts/make-oci-image.mjs';

const user = `ctrrl-${process.pid}`.slice(0, 31);
const subStart = 2_000_000 + (process.pid % 1000) * 65536;
const dist = resolve(__dirname, '../dist/index.cjs');
const before = snapshot();
const ws = workspace('rootless');
const xdg = join(ws.work, 'xdg');
const stateRoot = join(xdg, 'ctrun');
let uid = -1;
let gid = -1;
let setUp = false;

/** Why these tests cannot run here, or null. */
function unavailable(): string | null {
  if (!isRoot) return 'needs root to create the test user';
  for (const b of ['/usr/bin/newuidmap', '/usr/bin/newgidmap']) if (!existsSync(b)) return `${b} missing (uidmap package; scripts/setup.sh installs it)`;
  for (const b of ['useradd', 'usermod', 'userdel', 'setpriv']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `${b} not installed`;
  if (!existsSync(join(rootfs, 'bin/busybox'))) return 'no busybox rootfs (scripts/make-rootfs.sh)';
  if (!existsSync(CTRUN_PATH)) return `no ${CTRUN_PATH} (pnpm run build)`;
  const clone = '/proc/sys/kernel/unprivileged_userns_clone';
  if (existsSync(clone) && readFileSync(clone, 'utf8').trim() === '0') return 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)';
  const max = '/proc/sys/user/max_user_namespaces';
  if (existsSync(max) && readFileSync(max, 'utf8').trim() === '0') return 'user namespaces are disabled (user.max_user_namespaces=0)';
  return null;
}
const why = unavailable();

/** argv run as the test user with a clean environment. */
function asUser(argv: string[], env: Record<string, string> = {}): string[] {
  const e = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: ws.work, XDG_RUNTIME_DIR: xdg, ...env };
  return ['setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', 'env', '-i', ...Object.entries(e).map(([k, v]) => `${k}=${v}`), ...argv];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run argv as the test user; stdio through files so a detached init cannot hold a pipe open. */
function runAsUser(argv: string[], env: Record<string, string> = {}): Run {
  const [cmd, ...args] = asUser(argv, env);
  const out = join(ws.work, `out-${process.hrtime.bigint()}`);
  const fd = [openSync(`${out}.1`, 'w'), openSync(`${out}.2`, 'w')];
  try {
    const r = spawnSync(cmd, args, { timeout: 60_000, stdio: ['ignore', fd[0], fd[1]] });
    return { code: r.status, stdout: readFileSync(`${out}.1`, 'utf8'), stderr: readFileSync(`${out}.2`, 'utf8') };
  } finally {
    for (const f of fd) closeSync(f);
    for (const n of [1, 2]) rmSync(`${out}.${n}`, { force: true });
  }
}

function ctrun(args: string[]): Run {
  return runAsUser([CTRUN_PATH, ...args]);
}

/** A bundle owned by the test user, from `ctrun spec --rootless` run as that user, then `edit`ed. */
function bundle(name: string, edit: (c: Record<string, any>) => void): string {
  const dir = join(ws.work, name);
  mkdirSync(dir);
  chownSync(dir, uid, gid);
  const r = ctrun(['spec', '--rootless', '--bundle', dir]);
  assert.is(r.code, 0, `spec --rootless: ${r.stderr}`);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  c.root = { path: rootfs, readonly: true };
  c.process.terminal = false;
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  chownSync(join(dir, 'config.json'), uid, gid);
  return dir;
}

/** What the user's state root holds (ids and hidden entries). */
function stateEntries(): string[] {
  return existsSync(stateRoot) ? readdirSync(stateRoot) : [];
}

/** Processes of the test user still alive. */
function userProcesses(): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/status`, 'utf8');
      // Exited and waiting for a parent's wait (pid 1 reaps them here): not running.
      if (/^State:\s+Z/m.test(st)) continue;
      const m = /^Uid:\s+\d+\s+(\d+)/m.exec(st);
      const ids = /^Uid:\s+(\d+)/m.exec(st);
      if ((m && Number(m[1]) === uid) || (ids && Number(ids[1]) === uid)) out.push(`${d}: ${readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ')}`);
      // Processes with a subordinate uid (the mapped range) count too.
      else if (ids && Number(ids[1]) >= subStart && Number(ids[1]) < subStart + 65536) out.push(`${d} (subuid): ${readFileSync(`/proc/${d}/cmdline`, 'utf8')}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const probe = [
  'id -u',
  'id -g',
  'cat /proc/self/uid_map',
  // Interfaces of the network namespace: lo only, and up (lo up gives 127.0.0.1 a local route).
  "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,; echo",
  'grep -q 127.0.0.1 /proc/net/fib_trie && echo lo-up || echo lo-down',
].join('; ');

test('setup: a test user with subordinate uid/gid ranges', () => {
  if (why) return skip('rootless', why);
  for (const f of ['/etc/subuid', '/etc/subgid']) if (!existsSync(f)) writeFileSync(f, '');
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user], { stdio: 'pipe' });
  setUp = true;
  execFileSync('usermod', ['--add-subuids', `${subStart}-${subStart + 65535}`, '--add-subgids', `${subStart}-${subStart + 65535}`, user], { stdio: 'pipe' });
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  chmodSync(ws.work, 0o755);
  mkdirSync(xdg, { mode: 0o700 });
  chownSync(xdg, uid, gid);
});

test('ctrun run as a non-root user: uid 0 inside is the user outside, loopback only, state under $XDG_RUNTIME_DIR', () => {
  if (why) return skip('rootless run', why);
  const id = ws.newId();
  const b = bundle('own', (c) => {
    c.process.args = ['sh', '-c', probe];
  });
  const r = ctrun(['run', '--bundle', b, id]);
  assert.is(r.code, 0, `ctrun run: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  assert.equal(lines, ['0', '0', `0 ${uid} 1`, 'lo,', 'lo-up']);
  // The state root ctrun picked: $XDG_RUNTIME_DIR/ctrun, owned by the user, the record gone.
  assert.ok(existsSync(stateRoot), 'no state root under $XDG_RUNTIME_DIR');
  assert.is(statSync(stateRoot).uid, uid);
  assert.equal(stateEntries(), []);
  assert.not.ok(existsSync(join('/run/ctrun', id)), 'a record under root\'s /run/ctrun');
  if (cgroupLayout() !== 'unified') assert.match(r.stderr, 'without its own cgroup', 'the degradation is said');
});

test('newuidmap/newgidmap: the whole subordinate range is mapped and usable', () => {
  if (why) return skip('rootless subuid', why);
  const id = ws.newId();
  const b = bundle('sub', (c) => {
    c.linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: subStart, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }, { containerID: 1, hostID: subStart, size: 65536 }];
    // chown to an id of the range works only when it is mapped (and with CAP_CHOWN, not in runc's default set).
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set] = [...c.process.capabilities[set], 'CAP_CHOWN'];
    c.process.args = ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; touch /dev/shm/f && chown 1000:1000 /dev/shm/f && stat -c "%u %g" /dev/shm/f'];
  });
  const r = ctrun(['run', '--bundle', b, id]);
  assert.is(r.code, 0, `ctrun run: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  assert.equal(lines, [`0 ${uid} 1`, `1 ${subStart} 65536`, `0 ${gid} 1`, `1 ${subStart} 65536`, '1000 1000']);
  assert.equal(stateEntries(), []);
});

test('create/list/state/exec/kill/delete as the user; root\'s containers are out of sight', async () => {
  if (why) return skip('rootless lifecycle', why);
  // One of root's, in root's default store.
  const rootId = `${ws.newId()}-root`;
  const rootBundle = ws.bundle(['sleep', '60'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } });
  const rc = spawnSync(CTRUN_PATH, ['create', '--bundle', rootBundle, rootId], { stdio: 'ignore' });
  assert.is(rc.status, 0, 'root create');
  const id = ws.newId();
  const b = bundle('life', (c) => {
    c.process.args = ['sleep', '60'];
  });
  try {
    const c = ctrun(['create', '--bundle', b, id]);
    assert.is(c.code, 0, `create: ${c.stderr}`);
    const list = ctrun(['list', '--format', 'json']);
    assert.is(list.code, 0, list.stderr);
    const ids = (JSON.parse(list.stdout || '[]') as Array<{ id: string }>).map((x) => x.id);
    assert.ok(ids.includes(id), `list: ${list.stdout}`);
    assert.not.ok(ids.includes(rootId), 'root\'s container is listed for the user');
    const other = ctrun(['--root', '/run/ctrun', 'state', rootId]);
    assert.is.not(other.code, 0, 'the user reads root\'s store');
    assert.is(ctrun(['start', id]).code, 0);
    const st = JSON.parse(ctrun(['state', id]).stdout);
    assert.is(st.status, 'running');
    const e = ctrun(['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    assert.is(e.code, 0, `exec: ${e.stderr}`);
    assert.equal(e.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0', `0 ${uid} 1`]);
    assert.is(ctrun(['kill', id, 'KILL']).code, 0);
    for (let i = 0; i < 50 && JSON.parse(ctrun(['state', id]).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 100));
    const d = ctrun(['delete', id]);
    assert.is(d.code, 0, `delete: ${d.stderr}`);
    assert.equal(stateEntries(), []);
  } finally {
    ctrun(['delete', '--force', id]);
    spawnSync(CTRUN_PATH, ['delete', '--force', rootId], { stdio: 'ignore' });
  }
});

test('no delegated cgroup: limits are refused with ERUNTIME_ROOTLESS_CGROUP, nothing made', () => {
  if (why) return skip('rootless limits', why);
  if (cgroupLayout() === 'unified' && delegatedHere()) return skip('rootless limits', 'the caller has a delegated cgroup here');
  const id = ws.newId();
  const b = bundle('limits', (c) => {
    c.process.args = ['true'];
    c.linux.resources = { pids: { limit: 10 } };
  });
  const r = ctrun(['run', '--bundle', b, id]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, 'ERUNTIME_ROOTLESS_CGROUP');
  assert.match(r.stderr, 'linux.resources.pids');
  assert.equal(stateEntries(), []);
});

/** Whether the test user's cgroup (as a fresh process of it) is delegated: never for a plain useradd user. */
function delegatedHere(): boolean {
  return false;
}

test('@ctr/runtime from an unprivileged Node process: default state root, own-id map, loopback', () => {
  if (why) return skip('rootless node', why);
  if (!existsSync(dist)) return skip('rootless node', 'package not built (pnpm run build)');
  const script = join(ws.work, 'node-rootless.cjs');
  writeFileSync(
    script,
    `const { run, defaultRoot } = require(${JSON.stringify(dist)});
    run({ rootfs: { path: ${JSON.stringify(rootfs)}, readonly: true }, network: 'none', args: ['sh', '-c', ${JSON.stringify(probe)}] })
      .then((r) => process.stdout.write(JSON.stringify({ root: defaultRoot(), ...r })))
      .catch((e) => process.stdout.write(JSON.stringify({ error: e.code, message: e.message })));`,
  );
  chmodSync(script, 0o644);
  const r = runAsUser([process.execPath, script]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.is(out.error, undefined, out.message);
  assert.is(out.root, stateRoot);
  assert.is(out.exitCode, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l: string) => l.trim().split(/\s+/).join(' '));
  assert.equal(lines.slice(0, 4), ['0', '0', `0 ${uid} 1`, 'lo,']);
  assert.equal(stateEntries(), []);
});

test('a delegated cgroup2 subtree: pids and memory limits are enforced for the rootless container', async () => {
  if (why) return skip('rootless delegated cgroup', why);
  const m = cgroupMounts();
  if (cgroupLayout() !== 'unified' || !m.v2) return skip('rootless delegated cgroup', `needs a pure cgroup v2 host (this one is ${cgroupLayout()}): the v2 test guest runs it`);
  const rootCtl = readFileSync(join(m.v2, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  const missing = ['memory', 'pids'].filter((c) => !rootCtl.includes(c));
  // Enabling controllers in the root cgroup would be a host-wide change: only where they already are.
  if (missing.length) return skip('rootless delegated cgroup', `the root cgroup does not pass ${missing.join(', ')} down`);
  // Delegate the way systemd does (Delegate=yes): a cgroup dir with its
  // cgroup.procs, cgroup.subtree_control and cgroup.threads owned by the user.
  const base = join(m.v2, `ctrtest-rl-${process.pid}`);
  const session = join(base, 'session');
  mkdirSync(base);
  const id = ws.newId();
  let child: ChildProcess | null = null;
  try {
    for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(base, f), uid, gid);
    mkdirSync(session);
    for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(session, f), uid, gid);
    const b = bundle('delegated', (c) => {
      // dash ends a shell whose fork is refused, and then `ctrun run` removes
      // the cgroup at once: the forks are made by an inner shell, so that the
      // init (its parent) outlives the refusal and holds the cgroup until
      // killed. init + inner sh + 2 sleeps = 4; the third sleep is refused.
      c.process.args = ['sh', '-c', `cat /proc/self/cgroup; sh -c 'sleep 60 & sleep 60 & sleep 60 & sleep 60 & wait' 2>/dev/null; echo inner-ended; exec sleep 60`];
      c.linux.resources = { pids: { limit: 4 }, memory: { limit: 64 * 1024 * 1024 } };
    });
    // The user's process enters the delegated session cgroup (moved by root,
    // as systemd places a user's session) before it runs ctrun.
    const [cmd, ...args] = asUser(['sh', '-c', `read go; exec ${CTRUN_PATH} run --bundle ${b} ${id}`]);
    const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    writeFileSync(join(session, 'cgroup.procs'), String(proc.pid));
    proc.stdin.end('go\n');
    const dir = join(base, id);
    let limits: string[] = [];
    // Under TCG with a loaded host, the container's cgroup can take tens of seconds to appear.
    for (let i = 0; i < 600 && limits.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        limits = [readFileSync(join(dir, 'pids.max'), 'utf8').trim(), readFileSync(join(dir, 'memory.max'), 'utf8').trim()];
      } catch {
        // not made yet
      }
    }
    assert.equal(limits, ['4', String(64 * 1024 * 1024)], `limits in ${dir}: ${stderr}`);
    // The shell starts six background sleeps; with pids.max 4 some forks
    // must be refused. The cgroup exists before the init runs, and under
    // TCG the forks take seconds: wait for the refusal (or the shell's end).
    let events = '';
    for (let i = 0; i < 300 && !/max [1-9]/.test(events); i++) {
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(dir), `the container ended before a fork was refused: ${stdout} ${stderr}`);
      const now = Number(readFileSync(join(dir, 'pids.current'), 'utf8').trim());
      assert.ok(now <= 4, `pids.current ${now} > 4`);
      events = readFileSync(join(dir, 'pids.events'), 'utf8');
    }
    assert.match(events, /max [1-9]/, `no fork was refused: ${events} ${stderr}`);
    // The init outlived the refusal (it sleeps 60 s): the container is still running.
    const k = ctrun(['kill', id, 'KILL']);
    assert.is(k.code, 0, `kill: ${k.stderr}`);
    await exited;
    assert.match(stdout, `0::/`, 'the container has its own cgroup');
    assert.not.ok(existsSync(dir), `the container cgroup ${dir} is left`);
    assert.equal(stateEntries(), []);
  } finally {
    // `ctrun run` holds the record until its init is gone: kill first, then
    // wait for it, so that delete does not wait on its lock.
    ctrun(['kill', id, 'KILL']);
    if (child && child.exitCode === null && child.signalCode === null) {
      await Promise.race([new Promise((r) => child!.once('exit', r)), new Promise((r) => setTimeout(r, 20_000))]);
    }
    child?.kill('SIGKILL');
    ctrun(['delete', '--force', id]);
    for (const d of [join(base, id), session, base]) {
      try {
        rmdirSync(d);
      } catch {
        // gone
      }
    }
  }
  assert.not.ok(existsSync(base));
});

/** Why rootless podman cannot run here, or null. */
function podmanUnavailable(): string | null {
  if (why) return why;
  for (const b of ['podman', 'conmon']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `${b} not installed (scripts/setup.sh installs podman conmon)`;
  if (vmProfile() && !process.env.CTR_VM_CLIENTS) return `not run inside the test VMs by default (profile ${vmProfile()}): podman under TCG is slow; set CTR_VM_CLIENTS=1`;
  return null;
}

test('rootless podman --runtime ctrun run: uid 0 is the user, subuid range mapped, loopback only, nothing left', () => {
  const no = podmanUnavailable();
  if (no) return skip('rootless podman', no);
  // A private store (vfs: no fuse-overlayfs here) and config, all owned by the user.
  // Short: podman refuses a runroot longer than 50 characters.
  const b = `/tmp/ctrrl-pm-${process.pid}`;
  rmSync(b, { recursive: true, force: true });
  for (const d of ['', 'tmp', 'root', 'run', 'net', 'home']) {
    mkdirSync(join(b, d), { recursive: true });
    chownSync(join(b, d), uid, gid);
  }
  writeFileSync(
    join(b, 'containers.conf'),
    `[containers]\nnetns = "none"\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${b}/events.log"\ntmp_dir = "${b}/tmp"\nvolume_path = "${b}/root/volumes"\n[network]\nnetwork_config_dir = "${b}/net"\n`,
  );
  writeFileSync(join(b, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${b}/root"\nrunroot = "${b}/run"\n`);
  const image = join(b, 'image.tar');
  writeFileSync(image, readFileSync(makeOciImage()));
  for (const f of ['containers.conf', 'storage.conf', 'image.tar']) chownSync(join(b, f), uid, gid);
  const env = { HOME: join(b, 'home'), CONTAINERS_CONF: join(b, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(b, 'storage.conf') };
  const global = ['--root', join(b, 'root'), '--runroot', join(b, 'run'), '--tmpdir', join(b, 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'vfs', '--runtime', CTRUN_PATH];
  const podman = (args: string[]) => runAsUser(['podman', ...global, ...args], env);
  try {
    const l = podman(['load', '-i', image]);
    assert.is(l.code, 0, `podman load: ${l.stderr}`);
    const r = podman(['run', '--rm', '--network', 'none', IMAGE_NAME, 'sh', '-c', `id -u; cat /proc/self/uid_map; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,; echo`]);
    assert.is(r.code, 0, `podman run: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n').map((x) => x.trim().split(/\s+/).join(' '));
    assert.is(lines[0], '0');
    // podman's user namespace: uid 0 is the user, then its subordinate ranges (ours among them).
    assert.is(lines[1], `0 ${uid} 1`);
    assert.ok(lines.slice(2, -1).some((m) => m.split(' ')[1] === String(subStart) && m.split(' ')[2] === '65536'), `subuid range not mapped: ${lines.join(' | ')}`);
    assert.is(lines[lines.length - 1], 'lo,');
    assert.equal(podman(['ps', '-a', '-q']).stdout.trim(), '', 'podman run --rm left a container');
    // ctrun's state (in the user's $XDG_RUNTIME_DIR/ctrun) holds nothing.
    assert.equal(stateEntries(), []);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((x) => x.includes(b));
    assert.equal(mounts, [], 'mounts of the podman store are left');
  } finally {
    podman(['rm', '-a', '-f']);
    // podman keeps a "pause" process holding its user namespace (pause.pid):
    // podman's own, not the runtime's; stop it with the store.
    for (const f of [join(b, 'tmp', 'pause.pid'), join(xdg, 'libpod', 'tmp', 'pause.pid')]) {
      try {
        process.kill(Number(readFileSync(f, 'utf8').trim()), 'SIGKILL');
      } catch {
        // none
      }
    }
    rmSync(b, { recursive: true, force: true });
  }
});

test('teardown: the test user, its ranges and every leftover are gone', async () => {
  if (why) return skip('rootless teardown', why);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(userProcesses(), [], 'processes of the test user are left');
  assert.equal(stateEntries(), []);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(ws.work) || l.includes(user));
  assert.equal(mounts, [], 'mounts are left');
});

test.after(() => {
  if (setUp) {
    try {
      execFileSync('userdel', [user], { stdio: 'pipe' });
    } catch {
      // not created
    }
  }
  ws.remove();
  assert.equal(leftovers(before), []);
});

test.run();
