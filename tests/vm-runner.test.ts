// test-vms/vm itself, on the host: a command's output and exit status come
// back, the v2 guest has every controller, and a guest that outlives its
// timeout ends with a clear failure instead of hanging. Each case boots a
// real qemu guest (~5 s on an idle machine).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { skip, vmProfile } from '../test-support';

const root = join(__dirname, '..');
const vm = join(root, 'test-vms/vm');
const runs = join(root, 'test-vms/cache/runs');

/** Why these tests cannot run here, or null. */
function unavailable(): string | null {
  if (vmProfile()) return `inside a test-vms guest (${vmProfile()}): no nested qemu`;
  if (process.env.CTR_SKIP_VMS) return 'CTR_SKIP_VMS is set';
  if (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0) return 'qemu-system-x86_64 is not installed (scripts/setup.sh installs it)';
  return null;
}
const why = unavailable();

function runVm(args: string[], timeoutMs = 300_000) {
  return spawnSync(vm, ['--quiet', ...args], { encoding: 'utf8', timeout: timeoutMs, cwd: root });
}
const runFolders = () => (existsSync(runs) ? readdirSync(runs) : []);

test('a command runs in the v2 guest: output, exit status, every controller', () => {
  if (why) return skip('vm command', why);
  const before = runFolders();
  const r = runVm(['v2', '--', 'sh', '-c', 'cat /sys/fs/cgroup/cgroup.controllers; echo "profile=$CTR_VM_PROFILE cwd=$PWD"; exit 7']);
  assert.is(r.status, 7, r.stderr);
  const [controllers, info] = r.stdout.trim().split('\n');
  for (const c of ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']) assert.ok(controllers.split(' ').includes(c), `missing ${c}: ${controllers}`);
  assert.is(info, `profile=v2 cwd=${root}`);
  // a successful run leaves no run folder behind
  assert.equal(runFolders().filter((f) => !before.includes(f)), []);
});

test('the v1 guest has no cgroup2 and every controller on its own hierarchy', () => {
  if (why) return skip('vm v1', why);
  const r = runVm(['v1', '--', 'sh', '-c', "{ grep -c ' - cgroup2 ' /proc/self/mountinfo || true; } && ls /sys/fs/cgroup"]);
  assert.is(r.status, 0, r.stderr);
  const [count, ...dirs] = r.stdout.trim().split(/\s+/);
  assert.is(count, '0');
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'devices', 'freezer', 'hugetlb', 'systemd']) assert.ok(dirs.includes(c), `missing ${c}: ${dirs}`);
});

test('a guest that outlives its timeout fails with status 124 and the console tail', () => {
  if (why) return skip('vm timeout', why);
  const started = Date.now();
  const r = runVm(['--timeout', '20', 'v2', '--', 'sleep', '600'], 120_000);
  assert.is(r.status, 124, r.stderr);
  assert.ok(Date.now() - started < 60_000, 'the timeout did not stop the guest');
  assert.match(r.stderr, /FAILED \(v2\): guest timed out after 20s/);
  assert.match(r.stderr, /console tail/);
  const kept = r.stderr.match(/run folder kept: (\S+)/)?.[1];
  assert.ok(kept && existsSync(join(kept, 'console.log')), 'run folder not kept');
  spawnSync('rm', ['-rf', kept!]);
  // no qemu left running for that run folder
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  assert.not.ok(ps.includes(kept!), 'qemu still running');
});

test.run();
