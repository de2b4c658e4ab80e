// The cost of a pty: @ctr/ns spawn of `echo hi` with piped stdio against
// the same with `terminal: true` (pty made in the child, master sent back
// over a socketpair, read through the epoll-driven Terminal stream), and,
// for scale only (it does more: a relay process and its own timing), the
// classic way to get a pty from Node without a native module,
// `script -qc 'echo hi' /dev/null` (util-linux) with child_process. Also the
// round trip of one line through the pty (write to the master, the child
// echoes it back). Prints medians and ratios.
//
//   node bench/terminal.mjs [iterations=300]
import { spawn as cpSpawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantile as q, timeRotated } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}packages/ns/dist/index.mjs`;
if (!existsSync(dist)) {
  console.error('build @ctr/ns first: pnpm --filter @ctr/ns run build');
  process.exit(1);
}
const { spawn } = await import(dist);
const N = Number(process.argv[2] ?? 300);

const drain = (s) =>
  new Promise((res, rej) => {
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('error', rej);
    s.on('end', () => res(out));
  });

const cases = {
  'ctr/ns spawn echo, piped stdio': async () => {
    const c = spawn('echo', ['hi'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [out] = await Promise.all([drain(c.stdout), c.exited]);
    if (out !== 'hi\n') throw new Error(out);
  },
  'ctr/ns spawn echo, terminal: true': async () => {
    const c = spawn('echo', ['hi'], { terminal: true });
    const [out] = await Promise.all([drain(c.terminal), c.exited]);
    if (out !== 'hi\r\n') throw new Error(JSON.stringify(out));
  },
  "child_process script -qc 'echo hi' (util-linux pty)": () =>
    new Promise((res, rej) => {
      const c = cpSpawn('script', ['-qc', 'echo hi', '/dev/null'], { stdio: ['ignore', 'pipe', 'ignore'] });
      c.stdout.resume();
      c.on('error', rej).on('exit', (code) => (code === 0 ? res() : rej(new Error(`exit ${code}`))));
    }),
};

const times = await timeRotated(cases, N);

// Round trip of a line through one long-lived pty (cat echoes it).
const rt = [];
{
  const c = spawn('cat', [], { terminal: true });
  await c.spawned;
  let buf = '';
  let wake = null;
  c.terminal.on('data', (d) => {
    buf += d;
    if (wake && buf.split('\n').length > 2) wake();
  });
  for (let i = 0; i < N; i++) {
    buf = '';
    const t = process.hrtime.bigint();
    await new Promise((r) => {
      wake = r;
      c.terminal.write(`line ${i}\n`);
    });
    rt.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  c.kill('SIGKILL');
  await c.exited;
  c.terminal.destroy();
}

const base = q(times['ctr/ns spawn echo, piped stdio'].sort((a, b) => a - b), 0.5);
console.log(`${N} runs each (median, p90, ratio to piped stdio):`);
for (const [name, xs] of Object.entries(times)) {
  xs.sort((a, b) => a - b);
  console.log(`  ${name.padEnd(52)} ${q(xs, 0.5).toFixed(3)} ms  p90 ${q(xs, 0.9).toFixed(3)} ms  x${(q(xs, 0.5) / base).toFixed(2)}`);
}
rt.sort((a, b) => a - b);
console.log(`  ${'line round trip through the pty (cat)'.padEnd(52)} ${q(rt, 0.5).toFixed(3)} ms  p90 ${q(rt, 0.9).toFixed(3)} ms`);
