import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot } from '../../../test-support';

// A non-root caller: a test user with subordinate ids, running Node with
// @ctr/ns, gets a user namespace whose maps newuidmap/newgidmap wrote.
const user = `ctrtest-ns-${process.pid}`.slice(0, 31);
const subStart = 1_000_000 + (process.pid % 1000) * 65536;
const script = `/tmp/${user}.cjs`;
const dist = resolve(__dirname, '../dist/index.cjs');
const before = snapshot();

function idOf(flag: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

test('rootless: a non-root user spawns into a user namespace through newuidmap/newgidmap', async () => {
  if (!isRoot) return skip('rootless', 'needs root to create the test user');
  if (!existsSync('/usr/bin/newuidmap')) return skip('rootless', 'uidmap is not installed');
  if (!existsSync(dist)) return skip('rootless', 'package not built (pnpm run build)');
  const hadSub = ['/etc/subuid', '/etc/subgid'].filter((f) => existsSync(f));
  try {
    // usermod only edits existing files.
    for (const f of ['/etc/subuid', '/etc/subgid']) if (!hadSub.includes(f)) writeFileSync(f, '', { flag: 'a' });
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user], { stdio: 'pipe' });
    execFileSync('usermod', ['--add-subuids', `${subStart}-${subStart + 65535}`, '--add-subgids', `${subStart}-${subStart + 65535}`, user], { stdio: 'pipe' });
    const uid = idOf('-u');
    const gid = idOf('-g');
    writeFileSync(
      script,
      `const { run } = require(${JSON.stringify(dist)});
      run('sh', ['-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; echo $$; touch /proc/ok 2>/dev/null; hostname'], {
        namespaces: ['user', 'pid', 'mnt', 'uts', 'net'],
        mountProc: true,
        hostname: 'rootless',
        uidMap: [{ containerID: 0, hostID: ${uid}, size: 1 }, { containerID: 1, hostID: ${subStart}, size: 65536 }],
        gidMap: [{ containerID: 0, hostID: ${gid}, size: 1 }, { containerID: 1, hostID: ${subStart}, size: 65536 }],
      }).then(async (r) => {
        // Only its own ids: written directly (setgroups deny), like unshare -r.
        const own = await run('sh', ['-c', 'id -u; id -g; cat /proc/self/setgroups'], {
          namespaces: ['user'],
          uidMap: [{ containerID: 0, hostID: ${uid}, size: 1 }],
          gidMap: [{ containerID: 0, hostID: ${gid}, size: 1 }],
        });
        process.stdout.write(JSON.stringify({ uid: process.getuid(), ...r, own }));
      }).catch((e) => process.stdout.write(JSON.stringify({ error: e.code, message: e.message })));`,
    );
    const r = await run(process.execPath, [script], { uid, gid, groups: [gid], env: { PATH: process.env.PATH, HOME: '/tmp' } });
    assert.is(r.exitCode, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.is(out.error, undefined, out.message);
    assert.is(out.uid, uid, 'the caller is not root');
    assert.is(out.exitCode, 0, out.stderr);
    const lines = out.stdout.trim().split('\n').map((l: string) => l.trim().split(/\s+/).join(' '));
    assert.equal(lines, ['0', '0', `0 ${uid} 1`, `1 ${subStart} 65536`, `0 ${gid} 1`, `1 ${subStart} 65536`, '1', 'rootless']);
    assert.is(out.own.exitCode, 0, out.own.stderr);
    assert.equal(out.own.stdout.trim().split('\n'), ['0', '0', 'deny']);
  } finally {
    rmSync(script, { force: true });
    try {
      execFileSync('userdel', [user], { stdio: 'pipe' });
    } catch {
      // not created
    }
    // userdel drops the subordinate ranges; remove files only we created.
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      if (!hadSub.includes(f) && existsSync(f) && statSync(f).size === 0) rmSync(f);
      if (!hadSub.includes(f)) rmSync(`${f}-`, { force: true });
    }
  }
  assert.not.match(readFileSync('/etc/passwd', 'utf8'), user);
  for (const f of ['/etc/subuid', '/etc/subgid']) if (existsSync(f)) assert.not.match(readFileSync(f, 'utf8'), user);
});

test('nothing left behind', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
  assert.not.ok(existsSync(join('/home', user)));
});

test.run();
