#!/usr/bin/env node
// Boot one test-vms guest for a cgroup layout and run the project's uvu
// suites inside it (the packages are built on the host; nothing is built in
// the guest). Called by scripts/test.mjs as `node test-vms/run-suites.mjs v2`
// and `... v1`, which parses the uvu `Total/Passed/Skipped` blocks and
// `SKIP:` lines of this output.
//
//   node test-vms/run-suites.mjs <v2|v1|hybrid|systemd> [suite...]
//
// Suites are package folder names under packages/ plus `integration` for the
// root tests/. Which ones run: the arguments, else $CTR_VM_SUITES
// (comma/space separated, `all` for every suite), else DEFAULT_SUITES below.
// Exits non-zero when a suite fails or the guest fails (boot failure,
// timeout: test-vms/vm prints the exit status and the console tail).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

// The suites that depend on the kernel's layout (cgroups, namespaces, the
// runtime that combines them, seccomp and netns that a container needs).
// @ctr/common is pure TypeScript: the host run covers it. Under TCG the
// guest runs code 5-25x slower, see README.md for the measured times.
export const DEFAULT_SUITES = ['cgroup', 'ns', 'runtime', 'seccomp', 'netns', 'integration'];
// The systemd guest (systemd as PID 1) runs only what needs systemd: the
// systemd cgroup driver's tests in tests/systemd/ (the `systemd` suite).
export const SYSTEMD_SUITES = ['systemd'];

const root = new URL('..', import.meta.url).pathname;
const [profile, ...picked] = process.argv.slice(2);
if (!['v2', 'v1', 'hybrid', 'systemd'].includes(profile ?? '')) {
  process.stderr.write('usage: node test-vms/run-suites.mjs <v2|v1|hybrid|systemd> [suite...]\n');
  process.exit(2);
}

/** Every suite that exists in this checkout: [{ name, cwd, dir }]. */
function allSuites() {
  const out = [];
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', pkg, 'test');
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.test.ts'))) out.push({ name: pkg, label: `@ctr/${pkg}`, cwd: `packages/${pkg}`, dir: 'test' });
  }
  const tests = join(root, 'tests');
  if (existsSync(tests) && readdirSync(tests).some((f) => f.endsWith('.test.ts'))) out.push({ name: 'integration', label: 'integration', cwd: '.', dir: 'tests' });
  // tests/systemd/ on its own (it is part of `integration` too, where it skips without systemd)
  if (existsSync(join(tests, 'systemd'))) out.push({ name: 'systemd', label: 'systemd', cwd: '.', dir: 'tests/systemd' });
  return out;
}

const env = process.env.CTR_VM_SUITES?.split(/[\s,]+/).filter(Boolean);
const defaults = profile === 'systemd' ? SYSTEMD_SUITES : DEFAULT_SUITES;
const wanted = picked.length ? picked : env?.length && profile !== 'systemd' ? env : defaults;
const all = allSuites();
const selected = wanted.includes('all') ? all : all.filter((s) => wanted.includes(s.name) || wanted.includes(s.label));
const notRun = all.filter((s) => !selected.includes(s)).map((s) => s.label);
const unknown = (wanted === defaults ? [] : wanted).filter((w) => w !== 'all' && !all.some((s) => s.name === w || s.label === w));

process.stdout.write(`[vm ${profile}] suites: ${selected.map((s) => s.label).join(', ') || '(none)'}\n`);
if (notRun.length) process.stdout.write(`[vm ${profile}] not selected (host run only; CTR_VM_SUITES=all runs them): ${notRun.join(', ')}\n`);
if (unknown.length) process.stdout.write(`[vm ${profile}] no such suite in this checkout: ${unknown.join(', ')}\n`);
if (selected.length === 0) process.exit(0);

const vm = join(root, 'test-vms/vm');
const guestRunner = relative(root, join(root, 'test-vms/guest/suites.mjs'));
const payload = JSON.stringify(selected.map(({ label, cwd, dir }) => ({ name: label, cwd, dir })));
const started = Date.now();
const child = spawn(vm, [profile, '--', process.execPath, guestRunner, payload], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  // the whole guest: below scripts/test.mjs's 30 minutes per VM suite
  env: { CTR_VM_TIMEOUT: '1500', ...process.env },
});
const forward = (sig) => child.kill(sig);
process.on('SIGTERM', forward);
process.on('SIGINT', forward);
child.on('close', (code, signal) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (code === 124 || code === 125 || signal) {
    // the guest itself failed (test-vms/vm printed why and the console
    // tail): count it as one failed test
    process.stdout.write(`\n[vm ${profile}] FAILED: the guest did not finish (${signal ?? `status ${code}`}) after ${seconds}s\n  Total:     1\n  Passed:    0\n  Skipped:   0\n`);
  } else {
    process.stdout.write(`[vm ${profile}] guest finished with status ${code} in ${seconds}s (boot included)\n`);
  }
  process.exit(signal ? 1 : code);
});
