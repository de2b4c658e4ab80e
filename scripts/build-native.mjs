// Build one package's Node-API addon (run from the package's folder, by its
// `build` script) and write its platform loader.
//
// The addon is built for the platforms in scripts/platforms.mjs that this
// machine can build: x86_64 glibc, linked through zig (cargo-zigbuild)
// against the glibc floor so that the same file loads on every glibc from
// the floor up. Without cargo-zigbuild (a machine that has not run
// scripts/setup.sh) the host linker is used and the binary needs the host's
// glibc: fine for development, refused by `npm run release` (the floor test
// in tests/release fails).
//
//   node ../../scripts/build-native.mjs [--bin <cargo package>:<bin>[:<cargo profile>]]
//
// `--bin` also builds a native executable of the workspace the same way
// (ctrun for @ctr/runtime) and copies it to the package's bin/. The
// executable gets its own cargo profile when one is named (ctrun's, in
// Cargo.toml: panic=abort, LTO, size-optimised; the addons keep `release`,
// whose panics must unwind to the napi boundary).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_TARGET, loaderSource, zigbuildPath } from './platforms.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const binaryName = pkg.napi.binaryName;
const zig = zigbuildPath(repo);
const env = { ...process.env };
if (zig) env.PATH = `${dirname(zig)}:${env.PATH}`;
else console.warn(`[build-native] ${pkg.name}: cargo-zigbuild not found (run scripts/setup.sh); building against the host glibc`);

// cargo-zigbuild takes the glibc floor as a suffix of the target; cargo
// itself (and the output folder under target/) sees the plain triple.
const napiTarget = zig ? `${HOST_TARGET.rust}.${HOST_TARGET.glibcFloor}` : HOST_TARGET.rust;
const napi = join(repo, 'node_modules/.bin/napi');
execFileSync(
  napi,
  ['build', '--platform', '--release', '--manifest-path', 'native/Cargo.toml', '--output-dir', 'native', '--no-js', '--dts', 'index.d.ts', '--target', napiTarget, ...(zig ? ['-x'] : [])],
  { stdio: 'inherit', env },
);
writeFileSync('native/index.js', loaderSource({ pkgName: pkg.name, binaryName }));

const binArg = process.argv.indexOf('--bin');
if (binArg > 0) {
  const [cargoPkg, bin, profile = 'release'] = process.argv[binArg + 1].split(':');
  const cargoArgs = zig
    ? ['zigbuild', '--profile', profile, '--target', napiTarget, '-p', cargoPkg, '--bin', bin]
    : ['build', '--profile', profile, '--target', HOST_TARGET.rust, '-p', cargoPkg, '--bin', bin];
  // `ctrun --version` prints the commit it was built from, as runc does
  // (read by option_env! in the binary only: a new commit rebuilds no library).
  const commit = gitCommit();
  execFileSync('cargo', cargoArgs, { stdio: 'inherit', env: commit ? { ...env, CTR_GIT_COMMIT: commit } : env, cwd: repo });
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(repo, 'target');
  const built = join(targetDir, HOST_TARGET.rust, profile, bin);
  mkdirSync('bin', { recursive: true });
  // Copy then rename: a running binary (a container's init) keeps its inode.
  const tmp = join('bin', `.${bin}.tmp`);
  copyFileSync(built, tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, join('bin', bin));
}
if (!existsSync(join('native', `${binaryName}.${HOST_TARGET.platform}.node`))) {
  throw new Error(`napi build wrote no native/${binaryName}.${HOST_TARGET.platform}.node`);
}

/** The checked-out commit (with -dirty for uncommitted changes), or '' outside a git work tree. */
function gitCommit() {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12', '--match', 'ctrun-no-tag'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
