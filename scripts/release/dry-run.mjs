// `npm run release:dry`: publish every package, as `npm run release` would,
// to a throwaway local registry, then install them as a user would, in
// scratch apps outside the repository, and use them for real:
//
// - @ctr/cgroup alone: a cgroup with a limit, from ESM, CJS and strict tsc;
// - @ctr/runtime alone: a container, from ESM, CJS and strict tsc, and the
//   `ctrun` bin;
// - @ctr/runtime with libnftables.so.1 hidden (bind-covered in a private
//   mount namespace, the host's file untouched): it installs, loads and
//   runs a container; NAT alone fails, with ENETNS_NFT_MISSING.
//
// Needs root (cgroups, containers), the workspace build (pnpm run build),
// verdaccio and the busybox rootfs (scripts/setup.sh). Prints one line per
// check; exits 1 on the first failure. KEEP=1 keeps the scratch folder.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repo, stage } from './stage.mjs';
import { startRegistry } from './registry.mjs';
import { publishStaged } from './publish.mjs';

const fixtures = join(repo, 'tests/release/app');
const rootfs = process.env.CTR_ROOTFS ?? join(repo, '.cache/rootfs/busybox');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts, env: { ...process.env, CTR_ROOTFS: rootfs, ...opts.env } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Run a check program; it prints one JSON line naming the check. */
function check(cwd, args, expected, opts) {
  const out = sh(process.execPath, args, { cwd, ...opts });
  const line = out.trim().split('\n').pop();
  const result = JSON.parse(line);
  if (result.check !== expected) throw new Error(`${args.join(' ')} printed ${line}, expected check ${expected}`);
  console.log(`ok - ${expected} ${line}`);
}

/** A scratch app with one package installed from the registry. */
function app(work, reg, pkg, name) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, private: true, version: '0.0.0' }, null, 2));
  sh('npm', ['install', pkg, '--userconfig', reg.npmrc, '--cache', join(work, 'npm-cache'), '--no-audit', '--no-fund'], { cwd: dir });
  const installed = (p) => existsSync(join(dir, 'node_modules', p, 'package.json'));
  if (!installed(`${pkg}-linux-x64-gnu`)) throw new Error(`${name}: npm did not install ${pkg}-linux-x64-gnu`);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (Object.keys(manifest.dependencies).join() !== pkg) throw new Error(`${name}: depends on ${Object.keys(manifest.dependencies)}`);
  console.log(`ok - installed ${pkg} alone in ${name}`);
  return dir;
}

/** Compile `files` with tsc --strict against the installed declarations. */
function compile(dir, files) {
  // The app's own @types/node, as a user has it (from this repo's install).
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(realpathSync(join(repo, 'node_modules/@types/node')), join(dir, 'node_modules/@types/node'));
  for (const f of files) copyFileSync(join(fixtures, f), join(dir, f));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noUncheckedIndexedAccess: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'out', types: ['node'], skipLibCheck: false },
      files,
    }),
  );
  sh(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir });
  console.log(`ok - tsc --strict ${files.join(' ')}`);
}

/** Where ld.so finds libnftables.so.1, or null. */
function libnftables() {
  const out = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
  const line = out.split('\n').find((l) => l.trim().startsWith('libnftables.so.1 ') && l.includes('x86-64'));
  return line ? realpathSync(line.split('=>')[1].trim()) : null;
}

async function main() {
  if (process.getuid() !== 0) throw new Error('release:dry needs root (cgroups and containers)');
  if (!existsSync(join(rootfs, 'bin/sh'))) throw new Error(`no rootfs at ${rootfs}: run scripts/setup.sh`);
  const work = mkdtempSync(join(tmpdir(), 'ctr-release-dry-'));
  const reg = await startRegistry();
  try {
    const staged = stage(join(work, 'staged'));
    // The release path itself (publish.mjs), pointed at the throwaway registry.
    const published = publishStaged(staged, ['--userconfig', reg.npmrc, '--cache', join(work, 'npm-cache')]);
    if (published.length !== staged.length) throw new Error(`published ${published.length} of ${staged.length} packages`);
    // What the registry serves has no workspace: range left.
    for (const s of staged) {
      const doc = await (await fetch(`${reg.url}/${s.name.replace('/', '%2f')}`)).json();
      const v = doc.versions[doc['dist-tags'].latest];
      const bad = Object.entries({ ...v.dependencies, ...v.optionalDependencies }).filter(([, r]) => String(r).startsWith('workspace:'));
      if (bad.length) throw new Error(`${s.name} published with ${JSON.stringify(bad)}`);
    }
    console.log('ok - no workspace: range in any published manifest');

    const cg = app(work, reg, '@ctr/cgroup', 'app-cgroup');
    if (existsSync(join(cg, 'node_modules/@ctr/runtime'))) throw new Error('@ctr/cgroup pulled in @ctr/runtime');
    for (const f of ['check-cgroup.mjs', 'check-cgroup.cjs']) copyFileSync(join(fixtures, f), join(cg, f));
    check(cg, ['check-cgroup.mjs'], 'cgroup-esm');
    check(cg, ['check-cgroup.cjs'], 'cgroup-cjs');
    compile(cg, ['check-cgroup.ts']);
    check(cg, ['out/check-cgroup.js'], 'cgroup-ts');

    // As npm installs on Alpine (musl): the glibc package is skipped, the
    // package itself installs, and requiring it names what is missing.
    const musl = join(work, 'app-musl');
    mkdirSync(musl);
    writeFileSync(join(musl, 'package.json'), JSON.stringify({ name: 'scratch-musl', private: true, version: '0.0.0' }));
    sh('npm', ['install', '@ctr/cgroup', '--libc=musl', '--userconfig', reg.npmrc, '--cache', join(work, 'npm-cache'), '--no-audit', '--no-fund'], { cwd: musl });
    if (!existsSync(join(musl, 'node_modules/@ctr/cgroup/package.json'))) throw new Error('--libc=musl: @ctr/cgroup not installed');
    if (existsSync(join(musl, 'node_modules/@ctr/cgroup-linux-x64-gnu'))) throw new Error('--libc=musl: npm installed the glibc package');
    const loadErr = spawnSync(process.execPath, ['-e', "try { require('@ctr/cgroup') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }"], { cwd: musl, encoding: 'utf8' });
    const le = JSON.parse(loadErr.stdout.trim() || '{}');
    if (le.code !== 'ECTR_NATIVE_MISSING' || !le.message.includes('@ctr/cgroup-linux-x64-gnu')) throw new Error(`--libc=musl: require said ${loadErr.stdout}${loadErr.stderr}`);
    console.log(`ok - platform-skipped ${JSON.stringify(le)}`);

    const rt = app(work, reg, '@ctr/runtime', 'app-runtime');
    for (const f of ['check-runtime.mjs', 'check-runtime.cjs']) copyFileSync(join(fixtures, f), join(rt, f));
    check(rt, ['check-runtime.mjs'], 'runtime-esm');
    check(rt, ['check-runtime.cjs'], 'runtime-cjs');
    compile(rt, ['check-runtime.mts']);
    check(rt, ['out/check-runtime.mjs'], 'runtime-ts');
    const version = sh(join(rt, 'node_modules/.bin/ctrun'), ['--version'], { cwd: rt });
    if (!version.includes('spec: 1.')) throw new Error(`ctrun --version printed ${version}`);
    console.log(`ok - ctrun bin: ${version.split('\n')[0]}`);

    // No libnftables: cover the file ld.so would open with an empty one, in
    // a private mount namespace (the host keeps its library).
    const nodir = join(work, 'app-no-nft');
    mkdirSync(nodir);
    writeFileSync(join(nodir, 'package.json'), JSON.stringify({ name: 'scratch-no-nft', private: true, version: '0.0.0' }));
    copyFileSync(join(fixtures, 'check-no-nft.cjs'), join(nodir, 'check-no-nft.cjs'));
    const lib = libnftables();
    const empty = join(work, 'empty.so');
    writeFileSync(empty, '');
    const script = [
      'set -e',
      lib ? 'mount --bind "$1" "$2"' : ': no libnftables.so.1 on this host at all',
      'cd "$3"',
      'npm install @ctr/runtime --userconfig "$4" --cache "$5" --no-audit --no-fund >/dev/null',
      `"$6" check-no-nft.cjs`,
    ].join('\n');
    const out = sh('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', empty, lib ?? '-', nodir, reg.npmrc, join(work, 'npm-cache'), process.execPath]);
    const line = out.trim().split('\n').pop();
    if (JSON.parse(line).check !== 'no-libnftables') throw new Error(`check-no-nft printed ${line}`);
    console.log(`ok - no-libnftables ${lib ? `(${lib} covered)` : '(none on this host)'} ${line}`);
    console.log('release:dry: every check passed');
  } finally {
    await reg.stop();
    if (process.env.KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`release:dry failed: ${e.stack ?? e}`);
  process.exit(1);
});
