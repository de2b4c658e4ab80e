// Regenerate crates/ctr-runtime/ctrun-hot.ld: the functions `ctrun`'s usual
// commands run, which the linker then packs at the start of its text (see
// crates/ctr-runtime/build.rs and docs/performance.md, "`ctrun delete`
// without a sleep, `run` on one thread, hot text packed").
//
//   node bench/ctrun-hot-text.mjs [--iterations 3]
//
// Builds an unstripped `ctrun` (the `ctrun` profile with strip off), puts a
// uprobe on the entry of every one of its functions (tracefs mounted in a
// private mount namespace, the events in their own group and trace
// instance, all removed at the end), runs `run`, `create`, `start`, `exec`,
// `state` and `delete --force` of busybox containers, and writes every
// function whose probe was hit (`uprobe_profile`, read after each command)
// as a linker-script pattern: `run`'s functions first, those more commands
// share first among them, so that each command spans the fewest folios. The exact set: sampling (`perf record`) misses the many small
// functions run once per command, and those are what spread `run` over the
// binary. A legacy-mangled name's hash and the `.N` suffix LTO gives a
// local symbol change from build to build: they become wildcards (std's v0
// names are stable). Needs root, the busybox rootfs, cargo-zigbuild (as
// scripts/build-native.mjs), binutils (nm, readelf) and a kernel with
// uprobe events. Registering ~6000 probes one by one takes a few minutes.
// A name the next build no longer has only stops matching: regenerate after
// large changes to the run path.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HOST_TARGET, zigbuildPath } from '../scripts/platforms.mjs';
import { repo, requireRootAndRootfs, writeBundle } from './lib.mjs';

const argv = process.argv.slice(2);
const iterations = Number(argv.includes('--iterations') ? argv[argv.indexOf('--iterations') + 1] : 3);
requireRootAndRootfs();

const zig = zigbuildPath(repo);
if (!zig) throw new Error('cargo-zigbuild not found (run scripts/setup.sh)');
const env = { ...process.env, PATH: `${dirname(zig)}:${process.env.PATH}`, CARGO_PROFILE_CTRUN_STRIP: 'false', CARGO_INCREMENTAL: '0' };
execFileSync('cargo', ['zigbuild', '--profile', 'ctrun', '--target', `${HOST_TARGET.rust}.${HOST_TARGET.glibcFloor}`, '-p', 'ctr-runtime', '--bin', 'ctrun'], { stdio: 'inherit', env, cwd: repo });

const work = mkdtempSync(join(tmpdir(), 'ctr-hot-text-'));
const bin = join(work, 'ctrun');
copyFileSync(join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), HOST_TARGET.rust, 'ctrun', 'ctrun'), bin);

// Every function symbol of the text sections, by file offset (uprobes take
// the offset in the file).
const sections = [...execFileSync('readelf', ['-SW', bin], { encoding: 'utf8' }).matchAll(/\]\s+(\.text\S*)\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/g)].map((m) => ({
  addr: parseInt(m[2], 16),
  off: parseInt(m[3], 16),
  size: parseInt(m[4], 16),
}));
const functions = [];
const seen = new Set();
for (const line of execFileSync('nm', ['--defined-only', bin], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n')) {
  const [a, kind, name] = line.split(' ');
  if (!name || (kind !== 't' && kind !== 'T')) continue;
  const addr = parseInt(a, 16);
  const s = sections.find((x) => addr >= x.addr && addr < x.addr + x.size);
  if (!s || seen.has(addr)) continue;
  seen.add(addr);
  functions.push({ name, off: addr - s.addr + s.off });
}

const trueBundle = join(work, 'true');
const sleepBundle = join(work, 'sleep');
mkdirSync(trueBundle);
mkdirSync(sleepBundle);
writeBundle(trueBundle, ['true']);
writeBundle(sleepBundle, ['sleep', '100']);
const root = `/run/ctr-hot-text-${process.pid}`;
const group = `ctrhot${process.pid}`;
writeFileSync(join(work, 'probes'), functions.map((f, i) => `p:${group}/f${i} ${bin}:0x${f.off.toString(16)}\n`).join(''));
writeFileSync(
  join(work, 'trace.sh'),
  `T=${work}/tracefs
mkdir -p $T && mount -t tracefs nodev $T || exit 1
cleanup() {
  echo 0 > $T/instances/${group}/events/${group}/enable 2>/dev/null
  rmdir $T/instances/${group} 2>/dev/null
  for e in $(grep -oE "${group}/f[0-9]+" $T/uprobe_events); do echo "-:$e" >> $T/uprobe_events; done
  umount $T
}
trap cleanup EXIT
while read -r l; do echo "$l" >> $T/uprobe_events || exit 1; done < ${work}/probes
mkdir $T/instances/${group}
echo 16 > $T/instances/${group}/buffer_size_kb
echo 1 > $T/instances/${group}/events/${group}/enable
snap() { awk '$3 > 0 { print $2, $3 }' $T/uprobe_profile > ${work}/hits.$1; }
for i in $(seq ${iterations}); do
  ${bin} --root ${root} run --bundle ${trueBundle} t-$$-$i >/dev/null 2>&1 </dev/null; snap run.$i
  id=s-$$-$i
  ${bin} --root ${root} create --bundle ${sleepBundle} $id >/dev/null 2>&1 </dev/null; snap create.$i
  ${bin} --root ${root} start $id; snap start.$i
  ${bin} --root ${root} exec $id /bin/true; snap exec.$i
  ${bin} --root ${root} state $id >/dev/null; snap state.$i
  ${bin} --root ${root} delete --force $id; snap delete.$i
done
echo 0 > $T/instances/${group}/events/${group}/enable
`,
);
try {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', join(work, 'trace.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the traced run exited ${r.status}`);
  // The probes hit by each command: the counts' growth over its step.
  const commands = ['run', 'create', 'start', 'exec', 'state', 'delete'];
  const usedBy = new Map(); // function index -> the commands that ran it
  let before = new Map();
  for (let i = 1; i <= iterations; i++) {
    for (const cmd of commands) {
      const now = new Map(
        readFileSync(join(work, `hits.${cmd}.${i}`), 'utf8')
          .split('\n')
          .map((l) => l.match(/\bf(\d+) (\d+)$/))
          .filter(Boolean)
          .map((m) => [Number(m[1]), Number(m[2])]),
      );
      for (const [f, n] of now) if (n > (before.get(f) ?? 0)) (usedBy.get(f) ?? usedBy.set(f, new Set()).get(f)).add(cmd);
      before = now;
    }
  }
  // `run` first (what a foreground container maps: its functions then span
  // the fewest folios), within it the functions more commands share first
  // (so `state`, `start`, `delete` map a prefix of it); then what only the
  // other commands run, in the same order.
  const rank = (f) => [usedBy.get(f).has('run') ? 0 : 1, -usedBy.get(f).size, commands.findIndex((c) => usedBy.get(f).has(c))];
  const order = [...usedBy.keys()].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || a - b;
  });
  const hit = order.map((f) => functions[f].name);
  // A cold function (`#[cold]`, or one LLVM finds only calls cold code)
  // is in `.text.unlikely.<symbol>`: both names are matched.
  const patterns = [...new Set(hit.map(sectionPattern))].map((p) => `${p} ${p.replace(/^\.text\./, '.text.unlikely.')}`);
  const out = join(repo, 'crates/ctr-runtime/ctrun-hot.ld');
  writeFileSync(
    out,
    `/* Generated by bench/ctrun-hot-text.mjs: the functions ctrun's usual commands run, packed first (see build.rs). */\nSECTIONS\n{\n  .text.ctrun_hot :\n  {\n${patterns.map((p) => `    *(${p})\n`).join('')}  }\n}\nINSERT BEFORE .text;\n`,
  );
  console.log(`${hit.length} of ${functions.length} functions ran (${patterns.length} patterns) -> ${out}`);
} finally {
  spawnSync('sh', ['-c', `for d in ${root}/*; do [ -d "$d" ] && ${bin} --root ${root} delete --force "$(basename "$d")"; done; rm -rf ${root}`]);
  rmSync(work, { recursive: true, force: true });
}

/**
 * The input-section pattern of a function: `.text.` and its symbol, with
 * what changes from build to build wildcarded (a legacy-mangled name's
 * hash, the `.N` suffix LTO gives a local symbol whose name it shares).
 */
function sectionPattern(symbol) {
  return `.text.${symbol.replace(/17h[0-9a-f]{16}E(\.\d+)?$/, '17h*E*').replace(/\.\d+$/, '.*')}`;
}
