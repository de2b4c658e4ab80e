import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn } from '../src/index';
import type { SpawnOptions } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot, vmProfile } from '../../../test-support';

// Fork safety does not depend on the cgroup layout, and under the test VMs'
// TCG emulation (5-25x slower) these runs measure the emulator: they run on
// the host, every time, and are skipped with this reason inside a guest.
const IN_GUEST = vmProfile() !== null ? 'fork-safety stress runs on the host; a TCG guest only measures the emulator' : null;

const rootfs = resolve(__dirname, '../../../.cache/rootfs/busybox');

const allocator = `
  const { parentPort } = require('node:worker_threads');
  let stop = false; parentPort.on('message', () => { stop = true; });
  (function loop() {
    for (let i = 0; i < 2000; i++) { const a = new Array(256).fill(i); Buffer.alloc(4096 + (i % 7) * 512); a.length = 0; }
    if (!stop) setImmediate(loop); else parentPort.close();
  })();`;

/** Spawn `total` children, `parallel` at a time, while two workers allocate. */
async function stress(total: number, parallel: number, opts: SpawnOptions, timeoutMs: number) {
  const workers = [0, 1].map(() => new Worker(allocator, { eval: true }));
  let next = 0;
  let ok = 0;
  const failures: string[] = [];
  async function lane() {
    while (next < total) {
      next++;
      try {
        const r = await spawn('/bin/true', [], { stdio: 'ignore', ...opts }).exited;
        if (r.exitCode === 0) ok++;
        else failures.push(`exit ${r.exitCode} ${r.signal}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stress test hung (${ok} of ${total} done)`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: parallel }, lane)), timeout]);
  } finally {
    clearTimeout(timer);
    for (const w of workers) w.postMessage('stop');
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  }
  return { ok, failures: [...new Set(failures)].slice(0, 5) };
}

test('500 spawns of the full plan (user ns, rootfs, mounts, /dev, masks), 50 at a time, while two workers allocate', async () => {
  if (!isRoot) return skip('stress full plan', 'needs root');
  if (IN_GUEST) return skip('stress full plan', IN_GUEST);
  if (!existsSync(`${rootfs}/bin/busybox`)) return skip('stress full plan', 'busybox rootfs missing (bash scripts/make-rootfs.sh)');
  const before = snapshot();
  const { ok, failures } = await stress(
    500,
    50,
    {
      namespaces: ['user', 'pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'],
      uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
      hostname: 'stress',
      mountProc: true,
      rootfs: {
        path: rootfs,
        readonly: true,
        mounts: [
          { destination: '/tmp', type: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] },
          { destination: '/sys', type: 'sysfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] },
        ],
        maskedPaths: ['/proc/kcore', '/proc/acpi', '/proc/timer_list'],
        readonlyPaths: ['/proc/sys', '/proc/bus'],
      },
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
    },
    240_000,
  );
  assert.equal(failures, []);
  assert.is(ok, 500);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
});

// Fork safety under load: clone from the main thread while worker threads
// keep allocating (and taking malloc's locks). A child that touched the
// allocator or any lock before exec would deadlock here.
test('300 spawns in new namespaces, 50 at a time, while two workers allocate: no hang, no failure, no zombie', async () => {
  if (!isRoot) return skip('stress', 'needs root');
  if (IN_GUEST) return skip('stress', IN_GUEST);
  const before = snapshot();
  const { ok, failures } = await stress(300, 50, { namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'] }, 120_000);
  assert.equal(failures, []);
  assert.is(ok, 300);
  assert.equal(nsLeftovers(before), []);
});

test.run();
