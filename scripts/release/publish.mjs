// `npm run release`: publish every package whose version is not on the
// registry yet, platform packages first, from the staged copies (stage.mjs:
// `workspace:` ranges replaced, optionalDependencies on the platform
// packages, stripped binaries). Versions and changelogs come from
// `npm run version-packages` (changeset version) before; `changeset tag`
// tags after. `npm run release:dry` runs the same publishStaged() against a
// throwaway registry.
//
//   npm run release [-- --registry <url>] [-- --dry-run]
// Refuses to run without cargo-zigbuild (the build would not be at the glibc
// floor); run `npm test` first (tests/release checks the floor, publint,
// attw and the local round trip).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repo, stage } from './stage.mjs';
import { zigbuildPath } from '../platforms.mjs';

/** Publish staged packages in order; `npmArgs` go to every npm call. Returns the names published. */
export function publishStaged(staged, npmArgs = []) {
  const published = [];
  for (const s of staged) {
    const { version } = JSON.parse(readFileSync(join(s.dir, 'package.json'), 'utf8'));
    const seen = spawnSync('npm', ['view', `${s.name}@${version}`, 'version', ...npmArgs], { encoding: 'utf8' });
    if (seen.status === 0 && seen.stdout.trim() === version) {
      console.log(`skip ${s.name}@${version}: already published`);
      continue;
    }
    const r = spawnSync('npm', ['publish', s.dir, '--access', 'public', ...npmArgs], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm publish ${s.name}@${version} failed:\n${r.stdout}\n${r.stderr}`);
    console.log(`ok - published ${s.name}@${version}`);
    published.push(s.name);
  }
  return published;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const npmArgs = [...(args.includes('--registry') ? ['--registry', args[args.indexOf('--registry') + 1]] : []), ...(args.includes('--dry-run') ? ['--dry-run'] : [])];
  if (!zigbuildPath(repo)) {
    console.error('release: cargo-zigbuild is missing (scripts/setup.sh): the build is not at the glibc floor');
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), 'ctr-release-'));
  try {
    publishStaged(stage(join(work, 'staged')), npmArgs);
    if (!args.includes('--dry-run')) spawnSync(join(repo, 'node_modules/.bin/changeset'), ['tag'], { stdio: 'inherit', cwd: repo });
  } catch (e) {
    console.error(String(e.message ?? e));
    process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
