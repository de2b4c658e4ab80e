// `npm run release`: publish every package whose version is not on the
// registry yet, platform packages first, from the staged copies (stage.mjs:
// `workspace:` ranges replaced, optionalDependencies on the platform
// packages, stripped binaries). Versions and changelogs come from
// `npm run version-packages` (changeset version) before; `changeset tag` tags after.
//
//   npm run release [-- --registry <url>] [-- --dry-run]
// Refuses to publish binaries above the glibc floor: run `npm test` first
// (tests/release checks the floor, publint, attw and the local round trip).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repo, stage } from './stage.mjs';
import { zigbuildPath } from '../platforms.mjs';

const args = process.argv.slice(2);
const registryArg = args.includes('--registry') ? ['--registry', args[args.indexOf('--registry') + 1]] : [];
const dryRun = args.includes('--dry-run') ? ['--dry-run'] : [];
if (!zigbuildPath(repo)) {
  console.error('release: cargo-zigbuild is missing (scripts/setup.sh): the build is not at the glibc floor');
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'ctr-release-'));
try {
  for (const s of stage(join(work, 'staged'))) {
    const { version } = JSON.parse(spawnSync('node', ['-p', `JSON.stringify(require(${JSON.stringify(join(s.dir, 'package.json'))}))`], { encoding: 'utf8' }).stdout);
    const seen = spawnSync('npm', ['view', `${s.name}@${version}`, 'version', ...registryArg], { encoding: 'utf8' });
    if (seen.status === 0 && seen.stdout.trim() === version) {
      console.log(`skip ${s.name}@${version}: already published`);
      continue;
    }
    const r = spawnSync('npm', ['publish', s.dir, '--access', 'public', ...registryArg, ...dryRun], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  if (!dryRun.length) spawnSync(join(repo, 'node_modules/.bin/changeset'), ['tag'], { stdio: 'inherit', cwd: repo });
} finally {
  rmSync(work, { recursive: true, force: true });
}
