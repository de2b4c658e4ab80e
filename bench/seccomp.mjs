// @ctr/seccomp benchmark: cold compile of Docker's default profile, cached
// loads (memory, disk), and the cost of a system call (a getpid loop in a
// child spawned by @ctr/ns) under the built-in default profile vs
// unfiltered. Prints medians and ratios. Run after `pnpm run build`:
//   node bench/seccomp.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Profile, clearCache, libseccompVersion, spawnOptions } from '../packages/seccomp/dist/index.mjs';
import { run } from '../packages/ns/dist/index.mjs';

const root = new URL('..', import.meta.url).pathname;
const dockerJson = readFileSync(join(root, 'test-data/docker-seccomp/default.json'), 'utf8');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn, n) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return median(out);
};
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);

const work = mkdtempSync(join(tmpdir(), 'ctr-bench-seccomp-'));
try {
  const profile = Profile.fromDocker(dockerJson);
  const parse = time(() => Profile.fromDocker(dockerJson), 20);
  const cold = time(() => {
    clearCache();
    profile.compileSync();
  }, 20);
  const coldFlat = time(() => {
    clearCache();
    profile.compileSync({ binaryTree: false });
  }, 20);
  profile.compileSync();
  const memory = time(() => profile.compileSync(), 200);
  const cacheDir = join(work, 'cache');
  profile.compileSync({ cacheDir });
  const disk = time(() => {
    clearCache();
    profile.compileSync({ cacheDir });
  }, 50);
  console.log(`libseccomp ${libseccompVersion()}, Docker default.json: ${profile.json.syscalls.length} resolved rules, ${profile.compileSync().bpf.length / 8} BPF instructions`);
  console.log(`  parse+resolve          ${fmt(parse)}`);
  console.log(`  cold compile (tree)    ${fmt(cold)}`);
  console.log(`  cold compile (flat)    ${fmt(coldFlat)}`);
  console.log(`  cached load (memory)   ${fmt(memory)}   ratio to cold ${(memory / cold).toFixed(4)}`);
  console.log(`  cached load (disk)     ${fmt(disk)}   ratio to cold ${(disk / cold).toFixed(4)}`);

  const sc = join(work, 'sc');
  execFileSync('cc', ['-static', '-O2', '-o', sc, join(root, 'packages/seccomp/test/helpers/sc.c')]);
  const N = 2_000_000;
  const loop = async (opts) => {
    const r = await run(sc, [`loop:${N}`], opts);
    if (r.exitCode !== 0) throw new Error(r.stderr);
    return Number(/ns=(\d+)/.exec(r.stdout)[1]) / N;
  };
  const tree = spawnOptions(profile.compileSync());
  const flat = spawnOptions(profile.compileSync({ binaryTree: false }));
  const res = { none: [], tree: [], flat: [] };
  for (let i = 0; i < 7; i++) {
    res.none.push(await loop({}));
    res.tree.push(await loop(tree));
    res.flat.push(await loop(flat));
  }
  const none = median(res.none), t = median(res.tree), f = median(res.flat);
  console.log(`getpid in a child (${N} calls, median of 7 runs):`);
  console.log(`  unfiltered             ${none.toFixed(1)} ns/call`);
  console.log(`  default, binary tree   ${t.toFixed(1)} ns/call   ratio ${(t / none).toFixed(2)}`);
  console.log(`  default, flat          ${f.toFixed(1)} ns/call   ratio ${(f / none).toFixed(2)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
