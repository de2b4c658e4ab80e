// The one test command: cargo tests, every package's uvu suites, the
// root integration suites, and (when test-vms/ provides them) the suites
// inside the pure-v2 and pure-v1 guests. Prints each suite's output, then
// one line `N passed, N failed, N skipped` summed over all of them, and
// exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const totals = { passed: 0, failed: 0, skipped: 0 };
const suites = [];
const only = process.argv.slice(2); // optional suite-name filters

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

// 1. Rust unit and integration tests of the library crates.
const crates = readdirSync(join(root, 'crates')).filter((d) => existsSync(join(root, 'crates', d, 'Cargo.toml')));
runSuite('cargo', 'cargo', ['test', '--quiet', ...crates.flatMap((c) => ['-p', c])], { cwd: root }, parseCargo);

// 2. Every package's uvu suites.
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', pkg);
  if (!existsSync(join(dir, 'test'))) continue;
  runSuite(`@ctr/${pkg}`, uvu, ['-r', 'tsx', 'test', '\\.test\\.ts$'], { cwd: dir }, parseUvu);
}

// 3. Root integration suites.
if (existsSync(join(root, 'tests')) && readdirSync(join(root, 'tests')).some((f) => f.endsWith('.test.ts'))) runSuite('integration', uvu, ['-r', 'tsx', 'tests', '\\.test\\.ts$'], { cwd: root }, parseUvu);

// 4. Suites inside the test VMs, when test-vms/ provides a runner.
const vmRunner = join(root, 'test-vms/run-suites.mjs');
if (existsSync(vmRunner) && !process.env.CTR_SKIP_VMS) {
  for (const profile of ['v2', 'v1', 'systemd']) {
    runSuite(`vm-${profile}`, process.execPath, [vmRunner, profile], { cwd: root, timeout: 30 * 60_000 }, parseUvu);
  }
}

const subtreeAfter = rootSubtreeControl();
if (wanted('host') || only.length === 0) {
  const same = subtreeAfter === subtreeBefore;
  if (!same) process.stdout.write(`\nFAIL: the cgroup2 root cgroup.subtree_control changed during the run: ${JSON.stringify(subtreeBefore)} -> ${JSON.stringify(subtreeAfter)}\n`);
  suites.push({ name: 'host unchanged', passed: same ? 1 : 0, failed: same ? 0 : 1, skipped: 0, seconds: '0.0', status: 0 });
  totals[same ? 'passed' : 'failed'] += 1;
}

process.stdout.write('\n=== summary\n');
for (const s of suites) process.stdout.write(`${s.name.padEnd(16)} ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.seconds}s)\n`);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(totals.failed > 0 ? 1 : 0);
