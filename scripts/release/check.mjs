// `npm run release:check`: lint every package exactly as it is published
// (staged by stage.mjs): publint (--strict: warnings fail too) on every
// package, @arethetypeswrong/cli on every package with types (the platform
// packages hold only a binary). Exits 1 when any reports a problem.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repo, stage } from './stage.mjs';

const bin = (name) => join(repo, 'node_modules/.bin', name);

/** Lint the staged packages; returns [{ name, tool, ok, output }]. */
export function checkPackages() {
  const work = mkdtempSync(join(tmpdir(), 'ctr-release-check-'));
  try {
    const results = [];
    for (const s of stage(join(work, 'staged'))) {
      const run = (tool, args) => {
        const r = spawnSync(bin(tool), args, { encoding: 'utf8', cwd: s.dir });
        results.push({ name: s.name, tool, ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() });
      };
      run('publint', ['--strict', '--pack', 'npm', '.']);
      if (!s.platform) run('attw', ['--pack', '.', '--format', 'ascii']);
    }
    return results;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = checkPackages();
  for (const r of results) {
    console.log(`${r.ok ? 'ok' : 'not ok'} - ${r.tool} ${r.name}`);
    if (!r.ok || process.env.VERBOSE) console.log(r.output.replace(/^/gm, '    '));
  }
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
