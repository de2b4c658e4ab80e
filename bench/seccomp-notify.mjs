// bench/seccomp-notify.mjs: what a seccomp agent costs at create. N
// sequential `create` (timed) + `delete --force` (not timed) of the busybox
// bundle with a small filter (mkdir -> SCMP_ACT_ERRNO) and with the same
// filter as SCMP_ACT_NOTIFY sent to an agent at linux.seccomp.listenerPath
// (a @ctr/seccomp SeccompAgent in this process, from its dist/), for
// `ctrun` and Debian's `runc` side by side: medians and the added latency.
// Run as root from the repo root after `pnpm run build`:
//
//   node bench/seccomp-notify.mjs [--runs 50]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ctrun, median, repo, requireRootAndRootfs, rootfs } from './lib.mjs';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 50;
requireRootAndRootfs();
const { SeccompAgent } = createRequire(import.meta.url)(join(repo, 'packages/seccomp/dist/index.cjs'));

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-notify-'));
const sock = join(work, 'agent.sock');
const stateBase = `/run/ctr-bench-notify-${process.pid}`;

function makeBundle(name, action) {
  const dir = join(work, name);
  mkdirSync(dir);
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action }] };
  if (action === 'SCMP_ACT_NOTIFY') seccomp.listenerPath = sock;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    ociVersion: '1.0.2',
    root: { path: rootfs },
    process: { terminal: false, cwd: '/', args: ['/bin/true'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 }, noNewPrivileges: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }], seccomp },
  }));
  return dir;
}

// stderr goes to a file: a created container's init keeps the stdio of
// `create`, so a pipe would never close.
const errFile = join(work, 'stderr');
function exec(bin, args) {
  return new Promise((res) => {
    const fd = openSync(errFile, 'w');
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    p.on('exit', (code) => res({ code, err: code === 0 ? '' : readFileSync(errFile, 'utf8') }));
  });
}


// The agent takes each connection and closes the fd at once (the
// containers are never started: nothing would be notified).
let received = 0;
const agent = SeccompAgent.listen(sock);
let stop = false;
(async () => {
  while (!stop) {
    const c = await agent.accept().catch(() => null);
    if (!c) return;
    received++;
    await c.listener.close();
  }
})();

async function once(bin, root, bundle, id) {
  const t = process.hrtime.bigint();
  const r = await exec(bin, ['--root', root, 'create', '--bundle', bundle, id]);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  await exec(bin, ['--root', root, 'delete', '--force', id]);
  if (r.code !== 0) throw new Error(`${bin} create: exit ${r.code}: ${r.err.trim().split('\n').pop()}`);
  return ms;
}

// Interleaved (filter, filter + agent) pairs, so load from elsewhere on the
// host hits both alike; medians of each.
async function bench(bin, root, plain, notify) {
  const a = [];
  const b = [];
  for (let i = 0; i < runs + 3; i++) {
    const x = await once(bin, root, plain, `ctr-bench-notify-${process.pid}-a${i}`);
    const y = await once(bin, root, notify, `ctr-bench-notify-${process.pid}-b${i}`);
    if (i >= 3) (a.push(x), b.push(y)); // the first pairs warm the caches
  }
  return [median(a), median(b)];
}

try {
  const plain = makeBundle('errno', 'SCMP_ACT_ERRNO');
  const notify = makeBundle('notify', 'SCMP_ACT_NOTIFY');
  const rows = [];
  for (const [rt, bin] of [['ctrun', ctrun], ['runc', 'runc']]) {
    try {
      rows.push([rt, await bench(bin, `${stateBase}-${rt}`, plain, notify)]);
    } catch (e) {
      rows.push([rt, null, e.message]);
    }
  }
  console.log(`${runs} interleaved pairs each, create only (delete not timed); agent connections received: ${received}`);
  for (const [rt, m, err] of rows) {
    if (!m) { console.log(`${rt}: ${err}`); continue; }
    const [a, b] = m;
    console.log(`${rt.padEnd(6)} filter ${a.toFixed(2)} ms   filter+agent ${b.toFixed(2)} ms   added ${(b - a).toFixed(2)} ms (x${(b / a).toFixed(2)})`);
  }
} finally {
  stop = true;
  agent.close();
  rmSync(work, { recursive: true, force: true });
  for (const rt of ['ctrun', 'runc']) rmSync(`${stateBase}-${rt}`, { recursive: true, force: true });
  process.exit(0);
}
