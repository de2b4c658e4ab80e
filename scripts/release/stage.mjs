// Stage every package as it is published, from the workspace build:
//
// - each package is packed by `pnpm pack`, which replaces `workspace:`
//   ranges by the versions they point at, and unpacked into <out>/<name>;
// - a native package gets `optionalDependencies` on its platform packages
//   (napi-rs's layout), pinned to its own version;
// - each shipped platform gets `@ctr/<pkg>-<platform>` with `os`, `cpu`,
//   `libc`, the addon (and ctrun for @ctr/runtime), stripped.
//
// `node scripts/release/stage.mjs <out>` prints the staged folders as JSON;
// release.mjs, dry-run.mjs and the tests import `stage()`.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED, platformPackageName } from '../platforms.mjs';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Workspace packages in dependency order (a package after its dependencies). */
export function workspacePackages() {
  const pkgs = readdirSync(join(repo, 'packages'))
    .filter((d) => existsSync(join(repo, 'packages', d, 'package.json')))
    .map((d) => ({ dir: join(repo, 'packages', d), json: JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8')) }));
  const done = new Set();
  const out = [];
  while (out.length < pkgs.length) {
    const next = pkgs.find((p) => !done.has(p.json.name) && Object.keys(p.json.dependencies ?? {}).every((d) => done.has(d) || !d.startsWith('@ctr/')));
    if (!next) throw new Error('dependency cycle among the workspace packages');
    done.add(next.json.name);
    out.push(next);
  }
  return out;
}

const strip = (file) => execFileSync('strip', ['--strip-unneeded', file]);

/** The package.json of `main`'s package for one platform. */
function platformManifest(main, p) {
  return {
    name: platformPackageName(main.name, p.platform),
    version: main.version,
    description: `The ${p.platform} binary of ${main.name} (installed by it as an optional dependency)`,
    license: main.license,
    repository: main.repository,
    homepage: main.homepage,
    bugs: main.bugs,
    os: [p.os],
    cpu: [p.cpu],
    libc: [p.libc],
    engines: main.engines,
    main: `${main.napi.binaryName}.${p.platform}.node`,
    files: [`${main.napi.binaryName}.${p.platform}.node`, ...(main.name === '@ctr/runtime' ? ['ctrun'] : [])],
    publishConfig: { access: 'public' },
  };
}

/** Stage every package under `out`; returns [{ name, dir, platform? }], platform packages first. */
export function stage(out) {
  mkdirSync(out, { recursive: true });
  const packs = mkdtempSync(join(tmpdir(), 'ctr-pack-'));
  const staged = [];
  const mains = [];
  try {
    for (const { dir, json } of workspacePackages()) {
      const before = new Set(readdirSync(packs));
      execFileSync('pnpm', ['pack', '--pack-destination', packs], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
      const tgz = readdirSync(packs).find((f) => !before.has(f));
      const dest = join(out, json.name.replace('/', '__'));
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest);
      execFileSync('tar', ['xzf', join(packs, tgz), '-C', dest, '--strip-components=1']);
      const manifest = JSON.parse(readFileSync(join(dest, 'package.json'), 'utf8'));
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
        if (String(range).startsWith('workspace:')) throw new Error(`${json.name}: ${dep} still ${range} after pnpm pack`);
      }
      if (json.napi) {
        manifest.optionalDependencies = {};
        for (const p of SHIPPED) {
          const pm = platformManifest(json, p);
          const pdir = join(out, pm.name.replace('/', '__'));
          rmSync(pdir, { recursive: true, force: true });
          mkdirSync(pdir);
          const node = join(dir, 'native', pm.main);
          if (!existsSync(node)) throw new Error(`${node} missing: run pnpm run build`);
          copyFileSync(node, join(pdir, pm.main));
          strip(join(pdir, pm.main));
          if (json.name === '@ctr/runtime') {
            copyFileSync(join(dir, 'bin/ctrun'), join(pdir, 'ctrun'));
            chmodSync(join(pdir, 'ctrun'), 0o755);
            strip(join(pdir, 'ctrun'));
          }
          copyFileSync(join(repo, 'LICENSE'), join(pdir, 'LICENSE'));
          writeFileSync(
            join(pdir, 'README.md'),
            `# ${pm.name}\n\nThe ${p.platform} (${p.libc}${p.glibcFloor ? ` ${p.glibcFloor} or newer` : ''}) binary of [${json.name}](https://www.npmjs.com/package/${json.name}).\n` +
              `Do not install it yourself: \`${json.name}\` depends on it as an optional dependency and npm picks the one for your platform.\n`,
          );
          writeFileSync(join(pdir, 'package.json'), JSON.stringify(pm, null, 2) + '\n');
          manifest.optionalDependencies[pm.name] = json.version;
          staged.push({ name: pm.name, dir: pdir, platform: p.platform });
        }
      }
      writeFileSync(join(dest, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
      mains.push({ name: json.name, dir: dest });
    }
  } finally {
    rmSync(packs, { recursive: true, force: true });
  }
  return [...staged, ...mains];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/release/stage.mjs <out-dir>');
    process.exit(2);
  }
  console.log(JSON.stringify(stage(out), null, 2));
}
