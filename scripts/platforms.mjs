// The platforms the native packages are built for, and the loader every
// native package ships (native/index.js, written by build-native.mjs).
//
// A platform is shipped (gets an `@ctr/<pkg>-<platform>` package and an
// optionalDependency) only when it is built here AND loaded and exercised by
// tests/release. The others are listed so that the loader can name them and
// say they are not supported (yet), and the README table says why.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/** Every Linux platform napi-rs's layout names; `shipped` ones are published. */
export const PLATFORMS = [
  { platform: 'linux-x64-gnu', rust: 'x86_64-unknown-linux-gnu', os: 'linux', cpu: 'x64', libc: 'glibc', glibcFloor: '2.17', shipped: true },
  // Blocked: needs the aarch64 Rust standard library (rustup target add),
  // and this build machine reaches no Rust distribution server.
  { platform: 'linux-arm64-gnu', rust: 'aarch64-unknown-linux-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc', shipped: false },
  // Blocked: the same for the musl targets (and a static libseccomp for musl).
  { platform: 'linux-x64-musl', rust: 'x86_64-unknown-linux-musl', os: 'linux', cpu: 'x64', libc: 'musl', shipped: false },
  { platform: 'linux-arm64-musl', rust: 'aarch64-unknown-linux-musl', os: 'linux', cpu: 'arm64', libc: 'musl', shipped: false },
];

/** The platform this machine builds (x86_64 glibc). */
export const HOST_TARGET = PLATFORMS[0];

/** The platforms published. */
export const SHIPPED = PLATFORMS.filter((p) => p.shipped);

/** cargo-zigbuild installed by scripts/setup.sh (repo-local venv) or on PATH, or null. */
export function zigbuildPath(repo) {
  const local = join(repo, '.cache/release-tools/bin/cargo-zigbuild');
  if (existsSync(local)) return local;
  try {
    return execFileSync('sh', ['-c', 'command -v cargo-zigbuild'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The name of the package holding `pkgName`'s binary for `platform`. */
export const platformPackageName = (pkgName, platform) => `${pkgName}-${platform}`;

/**
 * The CommonJS loader of a native package: the workspace build next to it
 * first (`pnpm run build` writes `<binaryName>.<platform>.node` there), then
 * the platform package; errors name the platform and the package missing.
 */
export function loaderSource({ pkgName, binaryName }) {
  const supported = Object.fromEntries(SHIPPED.map((p) => [p.platform, platformPackageName(pkgName, p.platform)]));
  const known = PLATFORMS.map((p) => p.platform);
  return `// Loads the Node-API addon of ${pkgName} for this platform.
// Written by scripts/build-native.mjs; do not edit.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const PKG = ${JSON.stringify(pkgName)};
const BINARY = ${JSON.stringify(binaryName)};
// Platforms published as their own package (an optionalDependency of PKG).
const SUPPORTED = ${JSON.stringify(supported)};
// Platforms known but not built (yet).
const KNOWN = ${JSON.stringify(known)};

function libc() {
  // glibc and musl ship different ldd scripts; the process report is the
  // slower fallback (it also names glibc when ldd is missing or says
  // neither): ~15 ms per call, as it symbolizes the native stack.
  try {
    const ldd = readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return 'musl';
    if (ldd.includes('GLIBC') || ldd.includes('GNU C Library')) return 'gnu';
  } catch {}
  try {
    const header = process.report.getReport().header;
    return header.glibcVersionRuntime ? 'gnu' : 'musl';
  } catch {
    return 'gnu';
  }
}

/** This process's platform in napi-rs spelling, e.g. linux-x64-gnu. */
const platform = process.platform === 'linux' ? \`linux-\${process.arch}-\${libc()}\` : \`\${process.platform}-\${process.arch}\`;

function coded(code, message, cause) {
  const e = new Error(message, cause ? { cause } : undefined);
  e.code = code;
  e.platform = platform;
  return e;
}

function load() {
  // The workspace build (pnpm run build), when this is a checkout.
  const local = join(__dirname, \`\${BINARY}.\${platform}.node\`);
  if (existsSync(local)) return { binding: require(local), file: local };
  const platformPackage = SUPPORTED[platform];
  if (!platformPackage) {
    const why = KNOWN.includes(platform) ? 'is not built yet' : 'is not a platform ctr runs on';
    throw coded('ECTR_UNSUPPORTED_PLATFORM', \`\${PKG} has no native build for \${platform}: it \${why}; supported: \${Object.keys(SUPPORTED).join(', ')}\`);
  }
  let file;
  try {
    file = require.resolve(\`\${platformPackage}/\${BINARY}.\${platform}.node\`);
  } catch (cause) {
    throw coded(
      'ECTR_NATIVE_MISSING',
      \`\${PKG} needs \${platformPackage} on \${platform} and it is not installed (an optional dependency: npm skips it with --omit=optional, when --os/--cpu/--libc name another platform, or from a lockfile made elsewhere); install it: npm i \${platformPackage}@\${require('../package.json').version}\`,
      cause,
    );
  }
  try {
    return { binding: require(file), file };
  } catch (cause) {
    throw coded('ECTR_NATIVE_LOAD', \`\${PKG}: cannot load \${file} on \${platform}: \${String(cause && cause.message).toLowerCase()}\`, cause);
  }
}

const { binding, file } = load();
// Where the addon came from: @ctr/runtime finds ctrun beside it.
Object.defineProperty(binding, '__ctrNativeFile', { value: file, enumerable: false });
Object.defineProperty(binding, '__ctrPlatform', { value: platform, enumerable: false });
if (!Object.prototype.hasOwnProperty.call(binding, '__napiBindingTarget')) {
  Object.defineProperty(binding, '__napiBindingTarget', { value: 'native', enumerable: true });
}
module.exports = binding;
`;
}
