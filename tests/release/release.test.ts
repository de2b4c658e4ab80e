// The npm distribution, as published (scripts/release/): every package
// staged exactly as `npm run release` publishes it, then
// - the shipped binaries: glibc floor, nothing linked beyond libc, stripped;
// - the loader: names the platform and the package missing;
// - publint and @arethetypeswrong/cli clean for every package;
// - `npm run release:dry`: a local registry, @ctr/cgroup and @ctr/runtime
//   installed alone in scratch apps and used from ESM, CJS and strict tsc,
//   and with libnftables hidden.
// Host only: the guests of test-vms/ run the same binaries, and verdaccio
// plus npm installs take minutes under TCG.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cgroupMounts, isRoot, skip, vmProfile } from '../../test-support';
// @ts-expect-error plain ESM script without types
import { stage } from '../../scripts/release/stage.mjs';
// @ts-expect-error plain ESM script without types
import { checkPackages } from '../../scripts/release/check.mjs';
// @ts-expect-error plain ESM script without types
import { SHIPPED } from '../../scripts/platforms.mjs';

const repo = resolve(__dirname, '../..');
const hostOnly = vmProfile() ? `the release round trip runs on the host only (guest ${vmProfile()}: same binaries, verdaccio and npm installs take minutes under TCG)` : null;
const built = existsSync(join(repo, 'packages/runtime/bin/ctrun')) ? null : 'no workspace build (pnpm run build)';

interface Staged {
  name: string;
  dir: string;
  platform?: string;
}
let work = '';
let staged: Staged[] = [];

test.before(() => {
  if (hostOnly || built) return;
  work = mkdtempSync(join(tmpdir(), 'ctrtest-release-'));
  staged = stage(join(work, 'staged')) as Staged[];
});
test.after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every native file shipped: the addons and ctrun. */
function shippedBinaries(): string[] {
  return staged.filter((s) => s.platform).flatMap((s) => readdirSync(s.dir).filter((f) => f.endsWith('.node') || f === 'ctrun').map((f) => join(s.dir, f)));
}

/** The cgroups the scratch apps' checks create (top level of every hierarchy). */
function cgroupDirs(): string[] {
  const m = cgroupMounts();
  const roots = [...new Set([...(m.v2 ? [m.v2] : []), ...Object.values(m.v1)])];
  return roots.flatMap((r) => (existsSync(r) ? readdirSync(r).filter((f) => f.startsWith('ctr-release-')).map((f) => join(r, f)) : []));
}

const GLIBC_LIBS = new Set(['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libutil.so.1', 'ld-linux-x86-64.so.2']);

test('every shipped binary needs no glibc newer than the floor, links nothing beyond glibc, and is stripped', () => {
  const name = 'release: glibc floor';
  if (hostOnly || built) return skip(name, (hostOnly ?? built)!);
  const floor = SHIPPED.find((p: { platform: string }) => p.platform === 'linux-x64-gnu').glibcFloor as string;
  const cmp = (a: string, b: string): number => {
    const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  const newer = (v: string): boolean => cmp(v, floor) > 0;
  const files = shippedBinaries();
  assert.is(files.length, 6, `5 addons and ctrun: ${files}`);
  for (const f of files) {
    const dyn = spawnSync('objdump', ['-T', f], { encoding: 'utf8' });
    assert.is(dyn.status, 0, dyn.stderr);
    const versions = [...new Set([...dyn.stdout.matchAll(/GLIBC_([0-9.]+)/g)].map((m) => m[1]))];
    assert.ok(versions.length > 0, `${f}: no GLIBC_ versions at all`);
    const tooNew = versions.filter(newer);
    assert.equal(tooNew, [], `${f} needs glibc ${tooNew} (floor ${floor})`);
    // A strong undefined symbol without a version would only fail at load
    // time (a glibc wrapper newer than the floor): only Node's own API may
    // be one. Weak ones (Rust's std probes gettid, statx, ... at run time) are fine.
    const unversioned = dyn.stdout
      .split('\n')
      .filter((l) => l.includes('*UND*') && !/GLIBC_|\(/.test(l) && !/\sw\s+D?\s*\*UND\*/.test(l))
      .map((l) => l.trim().split(/\s+/).pop()!)
      .filter((s) => !/^(napi_|node_api_|uv_)/.test(s) && !['__gmon_start__', '_ITM_deregisterTMCloneTable', '_ITM_registerTMCloneTable'].includes(s));
    assert.equal(unversioned, [], `${f}: undefined symbols outside glibc and Node-API`);
    const needed = [...spawnSync('readelf', ['-d', f], { encoding: 'utf8' }).stdout.matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]);
    assert.equal(needed.filter((n) => !GLIBC_LIBS.has(n)), [], `${f} links ${needed}`);
    const sections = spawnSync('readelf', ['-S', f], { encoding: 'utf8' }).stdout;
    assert.not.match(sections, /\.symtab|\.debug_/, `${f} is not stripped`);
  }
});

test('the loader names the platform and the package missing', () => {
  const name = 'release: loader errors';
  if (hostOnly || built) return skip(name, (hostOnly ?? built)!);
  // The staged @ctr/cgroup on its own: no workspace binary beside the loader, no platform package.
  const alone = join(work, 'alone');
  cpSync(staged.find((s) => s.name === '@ctr/cgroup')!.dir, alone, { recursive: true });
  const load = (prelude: string) =>
    spawnSync(process.execPath, ['-e', `${prelude}; try { require('./native/index.js'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, platform: e.platform, message: e.message })) }`], { cwd: alone, encoding: 'utf8' });
  const missing = JSON.parse(load('').stdout);
  assert.is(missing.code, 'ECTR_NATIVE_MISSING');
  assert.is(missing.platform, 'linux-x64-gnu');
  assert.match(missing.message, 'npm i @ctr/cgroup-linux-x64-gnu@');
  for (const [arch, platform] of [['arm64', 'linux-arm64-gnu'], ['riscv64', 'linux-riscv64-gnu']]) {
    const r = JSON.parse(load(`Object.defineProperty(process, 'arch', { value: '${arch}' })`).stdout);
    assert.is(r.code, 'ECTR_UNSUPPORTED_PLATFORM');
    assert.is(r.platform, platform);
    assert.match(r.message, `@ctr/cgroup has no native build for ${platform}`);
    assert.match(r.message, 'supported: linux-x64-gnu');
  }
});

test('publint and @arethetypeswrong/cli find nothing in any package as published', () => {
  const name = 'release: publint and attw';
  if (hostOnly || built) return skip(name, (hostOnly ?? built)!);
  const results = checkPackages() as { name: string; tool: string; ok: boolean; output: string }[];
  assert.is(results.filter((r) => r.tool === 'publint').length, 11, 'every package and platform package');
  assert.is(results.filter((r) => r.tool === 'attw').length, 6, 'every package with types');
  for (const r of results) assert.ok(r.ok, `${r.tool} ${r.name}:\n${r.output}`);
});

test('npm run release:dry: published to a local registry, installed alone, used from ESM, CJS and strict tsc, and without libnftables', () => {
  const name = 'release: dry run';
  if (hostOnly || built) return skip(name, (hostOnly ?? built)!);
  if (!isRoot) return skip(name, 'needs root (cgroups and containers)');
  if (!existsSync(join(repo, '.cache/release-tools/verdaccio/node_modules/verdaccio'))) return skip(name, 'verdaccio not installed (scripts/setup.sh)');
  const ours = (): string[] => [
    ...readdirSync(tmpdir()).filter((f) => f.startsWith('ctr-release-dry-') || f.startsWith('ctr-registry-')).map((f) => join(tmpdir(), f)),
    ...cgroupDirs(),
  ];
  const before = new Set(ours());
  const r = spawnSync(process.execPath, [join(repo, 'scripts/release/dry-run.mjs')], { cwd: repo, encoding: 'utf8', timeout: 9 * 60_000 });
  const out = `${r.stdout}${r.stderr}`;
  assert.is(r.status, 0, out);
  for (const check of ['cgroup-esm', 'cgroup-cjs', 'cgroup-ts', 'platform-skipped', 'runtime-esm', 'runtime-cjs', 'runtime-ts', 'no-libnftables']) {
    assert.match(out, new RegExp(`^ok - ${check} `, 'm'), `${check} missing:\n${out}`);
  }
  assert.match(out, /^ok - installed @ctr\/cgroup alone/m);
  assert.match(out, /^ok - installed @ctr\/runtime alone/m);
  assert.match(out, /ENETNS_NFT_MISSING/);
  assert.match(out, /release:dry: every check passed/);
  // Nothing left: no scratch app, no registry storage, no cgroup of the checks.
  assert.equal(ours().filter((f) => !before.has(f)), [], 'left behind');
});

test.run();
