// Spawn /bin/true in new pid+mnt+uts+ipc+net namespaces with @ctr/ns
// (in-process clone3), against `unshare --fork --pid --mount --uts --ipc
// --net true` started with child_process, and a plain child_process.spawn
// of `true` for scale. Prints medians and ratios.
//
//   node bench/ns-spawn.mjs [iterations=300]
import { spawn as cpSpawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantile as q, timeRotated } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}packages/ns/dist/index.mjs`;
if (!existsSync(dist)) {
  console.error('build @ctr/ns first: pnpm --filter @ctr/ns run build');
  process.exit(1);
}
const { spawn } = await import(dist);
const N = Number(process.argv[2] ?? 300);
const NS = ['pid', 'mnt', 'uts', 'ipc', 'net'];
const rootfs = `${root}.cache/rootfs/busybox`;

const cases = {
  'ctr/ns spawn (pid,mnt,uts,ipc,net)': async () => {
    const r = await spawn('/bin/true', [], { namespaces: NS, stdio: 'ignore' }).exited;
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
  },
  'unshare --fork ... true (child_process)': () =>
    new Promise((res, rej) =>
      cpSpawn('unshare', ['--fork', '--pid', '--mount', '--uts', '--ipc', '--net', 'true'], { stdio: 'ignore' })
        .on('error', rej)
        .on('exit', (c) => (c === 0 ? res() : rej(new Error(`unshare exit ${c}`)))),
    ),
  'child_process.spawn true (no namespaces)': () =>
    new Promise((res, rej) => cpSpawn('true', [], { stdio: 'ignore' }).on('error', rej).on('exit', (c) => (c === 0 ? res() : rej(new Error(`exit ${c}`))))),
};
if (existsSync(`${rootfs}/bin/busybox`)) {
  cases['ctr/ns full plan (user ns + busybox rootfs + /dev + proc)'] = async () => {
    const r = await spawn('/bin/true', [], {
      namespaces: ['user', ...NS],
      uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
      mountProc: true,
      rootfs: { path: rootfs, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
      stdio: 'ignore',
    }).exited;
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
  };
}

const times = await timeRotated(cases, N);
const block = Math.max(1, Math.round(N / 3));
const results = {};
for (const [name, t] of Object.entries(times)) {
  results[name] = { median: q(t, 0.5), p90: q(t, 0.9) };
}
const base = results['ctr/ns spawn (pid,mnt,uts,ipc,net)'].median;
console.log(`ns-spawn: ${3 * block} sequential runs each, in rotated blocks (median / p90 in ms; ratio = median / ctr/ns median)`);
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(58)} ${r.median.toFixed(3).padStart(8)} ${r.p90.toFixed(3).padStart(8)}   x${(r.median / base).toFixed(2)}`);
}
const un = results['unshare --fork ... true (child_process)'].median;
console.log(`  ctr/ns is ${(un / base).toFixed(2)}x faster than unshare via child_process (aim: >= 3x)`);
