// bench/mounts.mjs: what the OCI mount extensions cost at `run` time.
// `ctrun run` and Debian's `runc run` of /bin/true on a copy of the busybox
// rootfs whose /etc holds 500 extra small files, with: no extension (the
// reference), a tmpfs with tmpcopyup on /etc (the copy), a plain `ro` rbind
// and an `rro` rbind of a host dir, an `idmap` bind of a host dir. Medians and ratios to the
// reference, side by side. runc 1.1.5 has tmpcopyup but neither rro nor
// idmap (runc 1.2 added them): its error is shown. Run as root from the
// repo root:
//
//   node bench/mounts.mjs [--runs 30]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctrun, median, requireRootAndRootfs, rootfs as busybox } from './lib.mjs';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 30;
requireRootAndRootfs();

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-mounts-'));
const rootfs = join(work, 'rootfs');
cpSync(busybox, rootfs, { recursive: true, verbatimSymlinks: true });
mkdirSync(join(rootfs, 'etc/many'));
for (let i = 0; i < 500; i++) writeFileSync(join(rootfs, `etc/many/f${i}`), `file ${i}\n`.repeat(20));
mkdirSync(join(rootfs, 'mnt'));
const host = join(work, 'host');
mkdirSync(host);
writeFileSync(join(host, 'f'), 'x');

const baseMounts = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
];
const variants = {
  reference: [],
  'tmpcopyup /etc': [{ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] }],
  'ro rbind': [{ destination: '/mnt', type: 'bind', source: host, options: ['rbind', 'ro'] }],
  'rro rbind': [{ destination: '/mnt', type: 'bind', source: host, options: ['rbind', 'rro'] }],
  'idmap bind': [{
    destination: '/mnt', type: 'bind', source: host, options: ['bind', 'idmap'],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
  }],
};
function bundle(name, extra) {
  const b = join(work, name.replace(/\W+/g, '-'));
  mkdirSync(b);
  writeFileSync(join(b, 'config.json'), JSON.stringify({
    ociVersion: '1.2.0',
    root: { path: rootfs },
    process: { cwd: '/', args: ['/bin/true'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [...baseMounts, ...extra],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
  }));
  return b;
}

const stateBase = `/run/ctr-bench-mounts-${process.pid}`;

function bench(bin, root, b) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const id = `ctr-bench-mounts-${process.pid}-${i}`;
    const t = process.hrtime.bigint();
    const r = spawnSync(bin, ['--root', root, 'run', '--bundle', b, id], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) {
      spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
      return { error: `exit ${r.status}: ${String(r.stderr).trim().split('\n').pop().slice(0, 120)}` };
    }
    times.push(ms);
  }
  return { median: median(times) };
}

try {
  const rows = [];
  for (const [name, extra] of Object.entries(variants)) {
    const b = bundle(name, extra);
    rows.push({ name, ctrun: bench(ctrun, `${stateBase}-ctrun`, b), runc: bench('runc', `${stateBase}-runc`, b) });
  }
  const ref = { ctrun: rows[0].ctrun.median, runc: rows[0].runc.median };
  const cell = (r, base) => (r.error ? `failed (${r.error})` : `${r.median.toFixed(2)} ms (${(r.median / base).toFixed(2)}x)`);
  console.log(`mounts: ${runs} x run of /bin/true, busybox rootfs with 500 extra files in /etc; median (ratio to the reference of the same runtime)`);
  console.log(`  ${'variant'.padEnd(16)}  ${'ctrun'.padEnd(22)}  runc`);
  for (const r of rows) console.log(`  ${r.name.padEnd(16)}  ${cell(r.ctrun, ref.ctrun).padEnd(22)}  ${cell(r.runc, ref.runc)}`);
} finally {
  for (const s of ['ctrun', 'runc']) rmSync(`${stateBase}-${s}`, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
