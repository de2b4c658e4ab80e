// Runs inside a test-vms guest (started by test-vms/run-suites.mjs through
// test-vms/vm): each selected package's uvu suites, then the root tests/,
// one after another, with their output as they print it. A suite that dies
// or outlives its timeout without printing uvu's totals is reported as one
// failed test (a `Total: 1 Passed: 0` block), so the host's count is right.
// Exits 1 when any suite failed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const suites = JSON.parse(process.argv[2] ?? '[]'); // [{ name, cwd, dir }]
const timeoutMs = Number(process.env.CTR_VM_SUITE_TIMEOUT ?? 600) * 1000;
const profile = process.env.CTR_VM_PROFILE ?? '?';

const uvuBin = (cwd) => [join(cwd, 'node_modules/.bin/uvu'), join(root, 'node_modules/.bin/uvu')].find((p) => existsSync(p));

function runOne(s) {
  return new Promise((resolve) => {
    const cwd = join(root, s.cwd);
    const uvu = uvuBin(cwd);
    if (!uvu) {
      resolve({ code: 127, out: '', error: 'no node_modules/.bin/uvu (run pnpm install on the host)' });
      return;
    }
    // the same loader as the host run; CTR_VM_UVU_REQUIRE=tsx/cjs starts ~7 s faster
    // per suite under TCG (no ESM loader worker) but differs from the host
    const args = ['-r', process.env.CTR_VM_UVU_REQUIRE || 'tsx', s.dir, '\\.test\\.ts$'];
    process.stdout.write(`\n=== [vm ${profile}] ${s.name}: ${s.cwd}$ uvu ${args.join(' ')}\n`);
    const started = Date.now();
    // own process group, so a timeout kills the suite and anything it spawned
    const child = spawn(uvu, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    const onData = (d) => {
      out += d;
      process.stdout.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      resolve({ code, signal, out, timedOut, seconds });
    });
  });
}

let failed = false;
const summary = [];
for (const s of suites) {
  const r = await runOne(s);
  const totals = /Total:\s+\d+\s+Passed:\s+\d+\s+Skipped:\s+\d+/.test(r.out.replace(/\x1b\[[0-9;]*m/g, ''));
  const ok = r.code === 0 && !r.timedOut;
  if (!ok) failed = true;
  if (!ok && (!totals || r.timedOut)) {
    // the suite died before uvu printed its result: count it as one failure
    const why = r.error ?? (r.timedOut ? `timed out after ${timeoutMs / 1000}s (CTR_VM_SUITE_TIMEOUT)` : `exited with ${r.signal ?? r.code}`);
    process.stdout.write(`\n[vm ${profile}] ${s.name}: FAILED: ${why}\n  Total:     1\n  Passed:    0\n  Skipped:   0\n`);
  }
  summary.push(`[vm ${profile}] ${s.name.padEnd(16)} ${ok ? 'ok    ' : 'FAILED'} ${r.seconds ?? '-'}s`);
}
process.stdout.write(`\n=== [vm ${profile}] suites\n${summary.join('\n')}\n`);
// exit now: a stray child of a suite must not keep the guest alive
process.exit(failed ? 1 : 0);
