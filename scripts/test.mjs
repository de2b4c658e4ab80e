// The one test command, in tiers, cheapest first:
//   gate   scripts/gate.mjs: rustfmt, clippy, tsc over packages and tests,
//          publint, docs examples (each check counts as one test);
//   fast   unit tests and fakes, no root, no VM (`npm run test:fast`):
//          every crate's `--lib` tests and the package test files whose
//          first lines say `tier: fast`;
//   then   the crates' integration and binary tests, every package's other
//          uvu suites, the root integration suites, and (when test-vms/
//          provides them) the suites inside the pure-v2 and pure-v1 guests.
// Prints each suite's output, then one line `N passed, N failed, N skipped`
// summed over all of them, and exits non-zero if anything failed.
//
//   node scripts/test.mjs [--fast] [suite-name-filter...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const totals = { passed: 0, failed: 0, skipped: 0 };
const suites = [];
const fastOnly = process.argv.includes('--fast'); // the fast tier alone
const only = process.argv.slice(2).filter((a) => a !== '--fast'); // optional suite-name filters

function wanted(name) {
  return only.length === 0 || only.some((o) => name.includes(o));
}

function runSuite(name, cmd, args, opts, parse) {
  if (!wanted(name)) return;
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: opts.timeout ?? 20 * 60_000, ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  process.stdout.write(out);
  // eslint-disable-next-line no-control-regex
  const counts = parse(out.replace(/\x1b\[[0-9;]*m/g, ''));
  const crashed = r.status !== 0 && counts.failed === 0;
  if (crashed) counts.failed += 1; // a suite that died counts as one failure
  if (r.error) process.stdout.write(`\n${name}: ${r.error.message}\n`);
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  suites.push({ name, ...counts, seconds: ((Date.now() - started) / 1000).toFixed(1), status: r.status ?? r.signal });
}

function parseCargo(out) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    c.passed += +m[1];
    c.failed += +m[2];
    c.skipped += +m[3];
  }
  const skips = (out.match(/^skipped: /gm) ?? []).length; // eprintln!("skipped: reason")
  c.passed -= skips;
  c.skipped += skips;
  return c;
}

export function parseUvu(out) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const m of out.matchAll(/Total:\s+(\d+)\s+Passed:\s+(\d+)\s+Skipped:\s+(\d+)/g)) {
    const total = +m[1], passed = +m[2], skipped = +m[3];
    c.passed += passed;
    c.skipped += skipped;
    c.failed += Math.max(0, total - passed);
  }
  const skips = (out.match(/^SKIP: /gm) ?? []).length;
  c.passed -= skips;
  c.skipped += skips;
  return c;
}

const uvu = join(root, 'node_modules/.bin/uvu');

// No host-wide changes: the cgroup2 root's subtree_control must be the same
// after every suite as before (checked once more at the end).
function rootSubtreeControl() {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '));
  if (!line) return null;
  try {
    return readFileSync(`${line.split(' ')[4]}/cgroup.subtree_control`, 'utf8').trim();
  } catch {
    return null;
  }
}
const subtreeBefore = rootSubtreeControl();

function parseGate(out) {
  const m = out.match(/^gate: (\d+) passed, (\d+) failed/m);
  return { passed: m ? +m[1] : 0, failed: m ? +m[2] : 0, skipped: 0 };
}

// A package test file is in the fast tier when one of its first lines says
// `tier: fast`: it needs no root, no kernel object and no VM.
function fastFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => /tier: fast/.test(readFileSync(join(dir, f), 'utf8').split('\n').slice(0, 5).join('\n')))
    .sort();
}
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const crates = readdirSync(join(root, 'crates')).filter((d) => existsSync(join(root, 'crates', d, 'Cargo.toml')));
const packages = readdirSync(join(root, 'packages'))
  .sort()
  .map((pkg) => ({ pkg, dir: join(root, 'packages', pkg) }))
  .filter(({ dir }) => existsSync(join(dir, 'test')));

// 0. The lint gate.
if (!fastOnly) runSuite('gate', process.execPath, [join(root, 'scripts/gate.mjs')], { cwd: root }, parseGate);

// 1. The fast tier: unit tests and fakes.
runSuite('fast: cargo --lib', 'cargo', ['test', '--quiet', '--lib', ...crates.flatMap((c) => ['-p', c])], { cwd: root }, parseCargo);
for (const { pkg, dir } of packages) {
  const files = fastFiles(join(dir, 'test'));
  if (files.length) runSuite(`fast: @ctr/${pkg}`, uvu, ['-r', 'tsx', 'test', `^(${files.map(escapeRe).join('|')})$`], { cwd: dir }, parseUvu);
}

// 2. Rust integration and binary tests of the crates (their --lib tests ran above).
if (!fastOnly) runSuite('cargo', 'cargo', ['test', '--quiet', '--bins', '--test', '*', ...crates.flatMap((c) => ['-p', c])], { cwd: root }, parseCargo);

// 3. Every package's other uvu suites.
for (const { pkg, dir } of fastOnly ? [] : packages) {
  const ignore = fastFiles(join(dir, 'test'));
  const all = readdirSync(join(dir, 'test')).filter((f) => f.endsWith('.test.ts'));
  if (all.every((f) => ignore.includes(f))) continue; // every file ran in the fast tier
  const args = ['-r', 'tsx', 'test', '\\.test\\.ts$', ...(ignore.length ? ['-i', `^(${ignore.map(escapeRe).join('|')})$`] : [])];
  runSuite(`@ctr/${pkg}`, uvu, args, { cwd: dir }, parseUvu);
}

// 4. Root integration suites; the CRI tier (tests/cri/: containerd's CRI
// plugin, crictl and CNI driving ctrun) runs next as its own suite.
if (!fastOnly && existsSync(join(root, 'tests')) && readdirSync(join(root, 'tests')).some((f) => f.endsWith('.test.ts'))) runSuite('integration', uvu, ['-r', 'tsx', 'tests', '\\.test\\.ts$', '-i', '^cri(/|$)'], { cwd: root }, parseUvu);
if (!fastOnly && existsSync(join(root, 'tests/cri'))) runSuite('cri', uvu, ['-r', 'tsx', 'tests/cri', '\\.test\\.ts$'], { cwd: root }, parseUvu);

// 5. Suites inside the test VMs, when test-vms/ provides a runner.
const vmRunner = join(root, 'test-vms/run-suites.mjs');
if (!fastOnly && existsSync(vmRunner) && !process.env.CTR_SKIP_VMS) {
  for (const profile of ['v2', 'v1', 'systemd']) {
    runSuite(`vm-${profile}`, process.execPath, [vmRunner, profile], { cwd: root, timeout: 30 * 60_000 }, parseUvu);
  }
}

const subtreeAfter = rootSubtreeControl();
if (!fastOnly && (wanted('host') || only.length === 0)) {
  const same = subtreeAfter === subtreeBefore;
  if (!same) process.stdout.write(`\nFAIL: the cgroup2 root cgroup.subtree_control changed during the run: ${JSON.stringify(subtreeBefore)} -> ${JSON.stringify(subtreeAfter)}\n`);
  suites.push({ name: 'host unchanged', passed: same ? 1 : 0, failed: same ? 0 : 1, skipped: 0, seconds: '0.0', status: 0 });
  totals[same ? 'passed' : 'failed'] += 1;
}

process.stdout.write('\n=== summary\n');
for (const s of suites) process.stdout.write(`${s.name.padEnd(16)} ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.seconds}s)\n`);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(totals.failed > 0 ? 1 : 0);
