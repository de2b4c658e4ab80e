// The lint gate (`npm run lint`, and the first suite of `npm test`): every
// check a reviewer would otherwise do by hand, each reported as one line
// `ok - <check>` or `not ok - <check>` followed by its output, then
// `gate: N passed, N failed`. Exits non-zero when any check fails.
//
//   cargo fmt --check                       Rust formatting
//   cargo clippy --all-targets -D warnings  Rust lints, tests included
//   tsc --noEmit, per package               the published sources
//   tsc --noEmit -p tsconfig.tests.json     every test, test-support, docs examples
//   publint --strict, per package           package.json exports/files as packed
//   docs-examples --check                   docs code blocks equal their files
//
// `node scripts/gate.mjs fmt clippy` runs only the checks whose names
// contain one of the arguments.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules/.bin', name);
const packages = readdirSync(join(root, 'packages'))
  .filter((p) => existsSync(join(root, 'packages', p, 'package.json')))
  .sort();

/** Every check as [name, command, args, cwd]. */
export function checks() {
  const list = [
    ['cargo fmt --check', 'cargo', ['fmt', '--all', '--', '--check'], root],
    ['cargo clippy --all-targets -D warnings', 'cargo', ['clippy', '--workspace', '--all-targets', '--quiet', '--', '-D', 'warnings'], root],
  ];
  for (const p of packages) {
    const dir = join(root, 'packages', p);
    if (existsSync(join(dir, 'tsconfig.json'))) list.push([`tsc --noEmit @ctr/${p}`, bin('tsc'), ['--noEmit', '-p', '.'], dir]);
  }
  list.push(['tsc --noEmit tests', bin('tsc'), ['-p', 'tsconfig.tests.json'], root]);
  for (const p of packages) list.push([`publint --strict @ctr/${p}`, bin('publint'), ['--strict', '.'], join(root, 'packages', p)]);
  list.push(['docs-examples --check', process.execPath, [join(root, 'scripts/docs-examples.mjs'), '--check'], root]);
  return list;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2);
  let passed = 0;
  let failed = 0;
  for (const [name, cmd, args, cwd] of checks()) {
    if (only.length && !only.some((o) => name.includes(o))) continue;
    const started = Date.now();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ok = r.status === 0;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${ok ? 'ok' : 'not ok'} - ${name} (${seconds}s)`);
    if (!ok) {
      const out = `${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
      // Enough of the output to act on without drowning the CI log.
      console.log(out.split('\n').slice(0, 80).join('\n').replace(/^/gm, '    '));
    }
    ok ? passed++ : failed++;
  }
  console.log(`gate: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
