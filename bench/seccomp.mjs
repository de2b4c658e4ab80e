// @ctr/seccomp benchmark: cold compile of Docker's default profile, cached
// loads (memory, disk), and the cost of a system call (getpid, off the
// filter's hot path, and read, on it, in loops in a child spawned by
// @ctr/ns) under Docker's default profile vs unfiltered. Prints medians and
// ratios; crun side by side: `node bench/floor.mjs --only seccomp`. Run
// after `pnpm run build`:
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
  // CPU time of the same (wall time on a shared machine is mostly its load).
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const coldCpu = median(
    Array.from({ length: 20 }, () => {
      clearCache();
      const t = cpuMs();
      profile.compileSync();
      return cpuMs() - t;
    }),
  );
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
  console.log(`  cold compile (tree)    ${fmt(cold)}   CPU ${fmt(coldCpu)}`);
  console.log(`  cold compile (flat)    ${fmt(coldFlat)}`);
  console.log(`  cached load (memory)   ${fmt(memory)}   ratio to cold ${(memory / cold).toFixed(4)}`);
  console.log(`  cached load (disk)     ${fmt(disk)}   ratio to cold ${(disk / cold).toFixed(4)}`);

  const sc = join(work, 'sc');
  execFileSync('cc', ['-static', '-O2', '-o', sc, join(root, 'packages/seccomp/test/helpers/sc.c')]);
  const N = 2_000_000;
  // getpid (not on the filter's hot path) and read(-1) (on it).
  const readNr = process.arch === 'arm64' ? 63 : 0;
  const loop = async (opts, call = 'getpid') => {
    const r = await run(sc, [call === 'read' ? `loop:${N}:${readNr}` : `loop:${N}`], opts);
    if (r.exitCode !== 0) throw new Error(r.stderr);
    return Number(/ns=(\d+)/.exec(r.stdout)[1]) / N;
  };
  const tree = spawnOptions(profile.compileSync());
  const flat = spawnOptions(profile.compileSync({ binaryTree: false }));
  // The same tree program without its hot path (ld arch; jeq arch; ld nr;
  // one jeq per hot call; ja; ret allow), to see what the hot path buys.
  const withoutHotPath = (program) => {
    const b = Buffer.from(program.bpf);
    const at = (i) => ({ code: b.readUInt16LE(i * 8), jf: b[i * 8 + 3], k: b.readUInt32LE(i * 8 + 4) });
    const n = at(1).jf - 3;
    if (at(0).code !== 0x20 || at(0).k !== 4 || at(2).k !== 0 || at(n + 4).code !== 0x06) return program;
    return { ...program, bpf: b.subarray((n + 5) * 8) };
  };
  const noHot = spawnOptions(withoutHotPath(profile.compileSync()));
  for (const call of ['getpid', 'read']) {
    const res = { none: [], tree: [], noHot: [], flat: [] };
    for (let i = 0; i < 7; i++) {
      res.none.push(await loop({}, call));
      res.tree.push(await loop(tree, call));
      res.noHot.push(await loop(noHot, call));
      res.flat.push(await loop(flat, call));
    }
    const none = median(res.none), t = median(res.tree), h = median(res.noHot), f = median(res.flat);
    console.log(`${call} in a child (${N} calls, median of 7 interleaved runs), Docker's profile:`);
    console.log(`  unfiltered             ${none.toFixed(1)} ns/call`);
    console.log(`  binary tree            ${t.toFixed(1)} ns/call   +${(t - none).toFixed(1)} ns, ratio ${(t / none).toFixed(2)}`);
    console.log(`  tree, no hot path      ${h.toFixed(1)} ns/call   +${(h - none).toFixed(1)} ns, ratio ${(h / none).toFixed(2)}`);
    console.log(`  flat                   ${f.toFixed(1)} ns/call   +${(f - none).toFixed(1)} ns, ratio ${(f / none).toFixed(2)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
