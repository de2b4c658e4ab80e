// OCI conformance, side by side: the validation suite of
// opencontainers/runtime-tools (the one runc and crun are checked with) run
// against ctrun and whichever of runc and crun this host has, in one run.
//
// The suite comes from the Go module proxy (pinned below), is built once
// into .cache/runtime-tools and runs from there: each validation/<name>.t
// makes bundles from the suite's busybox rootfs and drives the runtime named
// by $RUNTIME through create/start/state/kill/delete, running its
// `runtimetest` binary inside the container to check the config from there.
//
// A test passes when it exits 0 with no "not ok" line (the *_fail tests
// print nothing and exit 0 when the runtime refuses their bad config).
// Needs root, go, tar. Takes a few minutes per runtime.
// Usage: node scripts/conformance.mjs [--runtimes ctrun,runc,crun]
//          [--oci-version RUNTIME=VERSION] [--v1-hierarchies] [test-name-filter...]
//
// --v1-hierarchies: run with hugetlb, net_cls+net_prio and perf_event v1
// hierarchies, which crun 1.8.1 needs on a hybrid host, in a private mount
// namespace only (scripts/conformance-v1-window.sh: the controllers are
// bound to v1 while it runs and released afterwards).
//
// --oci-version crun=1.1.0: the suite writes ociVersion 1.3.0, which crun
// 1.8.1 (Debian 12) refuses outright ("unknown version specified") before
// looking at anything else; with this option the runtime is called through
// a shim that rewrites the bundle's ociVersion at create/run, so the rest
// of the suite measures something. The table marks such a runtime.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MODULE = 'github.com/opencontainers/runtime-tools';
// runtime-tools has no release since 2019; this is main as of 2025-11-14
// (runtime-spec 1.3), as the Go proxy serves it.
const VERSION = 'v0.9.1-0.20251114084447-edf4cb3d2116';
const repo = new URL('..', import.meta.url).pathname;
const cache = join(repo, '.cache', 'runtime-tools');
const src = join(cache, 'src');
const gopath = join(cache, 'gopath');

let args = process.argv.slice(2);
if (args.includes('--v1-hierarchies')) {
  // Run again, inside the window (see the usage above).
  const window = fileURLToPath(new URL('conformance-v1-window.sh', import.meta.url));
  const rest = args.filter((a) => a !== '--v1-hierarchies');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', window, process.execPath, fileURLToPath(import.meta.url), ...rest], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
let runtimes = ['ctrun', 'runc', 'crun'];
const filters = [];
const ociVersion = {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runtimes') runtimes = args[++i].split(',');
  else if (args[i] === '--oci-version') {
    const [r, v] = args[++i].split('=');
    ociVersion[r] = v;
  } else filters.push(args[i]);
}

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const ctrunPath = join(repo, 'packages', 'runtime', 'bin', 'ctrun');
const realPath = (r) => (r === 'ctrun' && existsSync(ctrunPath) ? ctrunPath : which(r));

/** The runtime itself, or a shim lowering the bundle's ociVersion (--oci-version). */
function runtimePath(r) {
  const real = realPath(r);
  if (!real || !ociVersion[r]) return real;
  const shim = join(cache, `${r}-oci-${ociVersion[r]}`);
  writeFileSync(
    shim,
    `#!/bin/sh
# ${r} with the bundle's ociVersion rewritten to ${ociVersion[r]} at create/run.
b=.; prev=; cmd=
for a in "$@"; do
  case "$prev" in --bundle|-b) b=$a;; esac
  case "$a" in --bundle=*) b=\${a#--bundle=};; create|run) [ -z "$cmd" ] && cmd=$a;; esac
  prev=$a
done
if [ -n "$cmd" ] && [ -f "$b/config.json" ]; then
  sed -i 's/"ociVersion": *"[^"]*"/"ociVersion":"${ociVersion[r]}"/' "$b/config.json"
fi
exec ${real} "$@"
`,
    { mode: 0o755 },
  );
  return shim;
}

function build() {
  if (existsSync(join(src, '.built'))) return;
  const env = { ...process.env, GOPATH: gopath, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  process.stdout.write(`fetching ${MODULE}@${VERSION} from the Go module proxy...\n`);
  const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${MODULE}@${VERSION}`], { env, cwd: '/', encoding: 'utf8' }));
  rmSync(src, { recursive: true, force: true });
  cpSync(info.Dir, src, { recursive: true });
  // Module files are read-only; the vendor dir is not in module zips.
  execFileSync('chmod', ['-R', 'u+w', src]);
  rmSync(join(src, 'vendor'), { recursive: true, force: true });
  process.stdout.write('building runtimetest and the validation tests...\n');
  execFileSync('make', ['runtimetest', 'validation-executables', 'COMMIT=' + VERSION.slice(-12)], { env, cwd: src, stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(join(src, '.built'), VERSION);
}

function tests() {
  const dir = join(src, 'validation');
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, `${n}.t`)))
    .filter((n) => filters.length === 0 || filters.some((f) => n.includes(f)))
    .sort();
}

/** Run one validation test; pass = exit 0 and no "not ok". */
function runOne(runtime, name) {
  const t0 = performance.now();
  const r = spawnSync(join(src, 'validation', name, `${name}.t`), [], {
    cwd: src, // the tests find rootfs-amd64.tar.gz and runtimetest here
    env: { ...process.env, RUNTIME: runtimePath(runtime) },
    encoding: 'utf8',
    timeout: 180_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  const ok = (out.match(/^ok /gm) ?? []).length;
  const notOk = (out.match(/^not ok /gm) ?? []).length;
  return { pass: r.status === 0 && notOk === 0, ok, notOk, status: r.status, ms: performance.now() - t0, out };
}

build();
const have = runtimes.filter((r) => runtimePath(r));
for (const r of runtimes.filter((x) => !have.includes(x))) process.stdout.write(`(${r} is not installed: left out)\n`);
const names = tests();
const results = {};
const logDir = join(cache, 'logs');
mkdirSync(logDir, { recursive: true });
for (const r of have) {
  results[r] = {};
  for (const n of names) {
    const res = runOne(r, n);
    results[r][n] = res;
    writeFileSync(join(logDir, `${r}-${n}.tap`), res.out);
  }
}

for (const [r, v] of Object.entries(ociVersion)) if (have.includes(r)) process.stdout.write(`(${r} got its bundles with ociVersion ${v})\n`);
const cell = (x) => (x.pass ? 'pass' : `FAIL${x.notOk ? ` (${x.notOk} not ok)` : x.status ? ` (exit ${x.status})` : ''}`);
const w = Math.max(...names.map((n) => n.length));
process.stdout.write(`\nruntime-tools ${VERSION} validation suite; logs in ${logDir}\n`);
process.stdout.write(`${'test'.padEnd(w)}  ${have.map((r) => r.padEnd(20)).join('')}\n`);
for (const n of names) process.stdout.write(`${n.padEnd(w)}  ${have.map((r) => cell(results[r][n]).padEnd(20)).join('')}\n`);
process.stdout.write(`${'passed'.padEnd(w)}  ${have.map((r) => `${Object.values(results[r]).filter((x) => x.pass).length} / ${names.length}`.padEnd(20)).join('')}\n`);
if (have.includes('ctrun')) {
  for (const other of have.filter((r) => r !== 'ctrun')) {
    const better = names.filter((n) => results.ctrun[n].pass && !results[other][n].pass);
    const worse = names.filter((n) => !results.ctrun[n].pass && results[other][n].pass);
    process.stdout.write(`ctrun vs ${other}: passes ${better.length} it fails (${better.join(', ') || '-'}); fails ${worse.length} it passes (${worse.join(', ') || '-'})\n`);
  }
}
