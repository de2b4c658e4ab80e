// Container-escape regression suite (docs/security.md): hostile rootfs
// images and configs run through `ctrun run`, `ctrun create`+`start`,
// `ctrun exec` and the @ctr/runtime API, asserting that the host effect of
// each known escape class did not happen.
//
// Safety: the runtime-overwrite attack (CVE-2019-5736) really writes into
// the binary it reaches when the runtime is vulnerable. Every run here uses
// COPIES of ctrun and node in a temporary folder, so a regression damages a
// copy, never the machine's binaries (whose hashes are checked too).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Container, CTRUN_PATH } from '../../packages/runtime/src/index';
import { isRoot, mountPoints, skip, vmProfile } from '../../test-support';

const REPO = resolve(__dirname, '../..');
const BUSYBOX = join(REPO, '.cache/rootfs/busybox');
const IMPOSTOR_C = join(__dirname, 'fixtures/impostor.c');
const RUNTIME_CJS = join(REPO, 'packages/runtime/dist/index.cjs');
const PREFIX = 'ctrtest-security';
const vm = vmProfile();
// Every fd number from 3 to 128 on the host; a sample in the TCG guests,
// where each container start costs 5-25x more (the numbers the runtime's
// own fds get, 3-10 and 64-72, are all in it).
const FD_NUMBERS = vm
  ? [3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 100, 128]
  : Array.from({ length: 126 }, (_, i) => i + 3);

function unavailable(): string | null {
  if (!isRoot) return 'needs root';
  if (process.arch !== 'x64') return 'the hostile ld.so fixture is x86_64 code';
  if (!existsSync(join(BUSYBOX, 'bin/busybox'))) return 'no busybox rootfs (scripts/make-rootfs.sh)';
  if (!existsSync(CTRUN_PATH)) return `no ${CTRUN_PATH} (pnpm run build)`;
  if (!existsSync(RUNTIME_CJS)) return `no ${RUNTIME_CJS} (pnpm run build)`;
  if (spawnSync('gcc', ['--version']).status !== 0) return 'no gcc to build the hostile ld.so';
  return null;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

interface Env {
  work: string;
  state: string;
  /** Copies the attacks run: a successful attack damages these. */
  ctrun: string;
  node: string;
  impostor: string;
  baseConfig: Record<string, any>;
  realSums: Record<string, string>;
  n: number;
}
let env: Env | null = null;

function setup(): Env {
  if (env) return env;
  const work = mkdtempSync(join(tmpdir(), `${PREFIX}-${process.pid}-`));
  mkdirSync(join(work, 'bin'));
  const impostor = join(work, 'impostor');
  const cc = spawnSync('gcc', ['-static', '-nostdlib', '-O2', '-fno-stack-protector', '-fno-pie', '-no-pie', '-ffreestanding', '-o', impostor, IMPOSTOR_C], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  const e: Env = {
    work,
    state: join(work, 'state'),
    ctrun: join(work, 'bin/ctrun'),
    node: join(work, 'bin/node'),
    impostor,
    baseConfig: {},
    realSums: { [CTRUN_PATH]: sha(CTRUN_PATH), [process.execPath]: sha(process.execPath) },
    n: 0,
  };
  freshCopies(e);
  const spec = join(work, 'spec');
  mkdirSync(spec);
  const r = spawnSync(e.ctrun, ['spec', '--bundle', spec], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctrun spec: ${r.stderr}`);
  e.baseConfig = JSON.parse(readFileSync(join(spec, 'config.json'), 'utf8'));
  env = e;
  return e;
}

/** (Re)make the copies of ctrun (and node) the attacks run. */
function freshCopies(e: Env, node = false): void {
  copyFileSync(CTRUN_PATH, e.ctrun);
  chmodSync(e.ctrun, 0o755);
  if (node) {
    copyFileSync(process.execPath, e.node);
    chmodSync(e.node, 0o755);
  }
}

const id = (e: Env, tag: string) => `${PREFIX}-${tag}-${process.pid}-${e.n++}`;

/** A writable copy of the busybox rootfs, changed by `tweak`. */
function rootfs(e: Env, name: string, tweak: (dir: string) => void = () => {}): string {
  const dir = join(e.work, `rootfs-${name}-${e.n++}`);
  cpSync(BUSYBOX, dir, { recursive: true, verbatimSymlinks: true });
  tweak(dir);
  return dir;
}

/** The CVE-2019-5736 image: a `#!/proc/self/exe` entrypoint and a hostile ld.so. */
function exeAttackRootfs(e: Env): string {
  return rootfs(e, 'exe', (dir) => {
    mkdirSync(join(dir, 'lib64'), { recursive: true });
    mkdirSync(join(dir, 'attack'));
    copyFileSync(e.impostor, join(dir, 'lib64/ld-linux-x86-64.so.2'));
    copyFileSync(e.impostor, join(dir, 'attack/writer'));
    chmodSync(join(dir, 'attack/writer'), 0o755);
    writeFileSync(join(dir, 'entry'), '#!/proc/self/exe\n', { mode: 0o755 });
  });
}

interface ConfigOpts {
  cwd?: string;
  /** Drop the /dev, /dev/pts, /dev/shm, /dev/mqueue mounts (the image's /dev is used). */
  noDev?: boolean;
}

function bundle(e: Env, root: string, args: string[], o: ConfigOpts = {}): string {
  const c = JSON.parse(JSON.stringify(e.baseConfig));
  c.root = { path: root, readonly: false };
  c.process.terminal = false;
  c.process.args = args;
  c.process.cwd = o.cwd ?? '/';
  c.process.env = ['PATH=/bin:/sbin'];
  if (o.noDev) c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/dev'));
  const dir = join(e.work, `bundle-${e.n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

function ctr(e: Env, args: string[], stdio: any = 'pipe') {
  return spawnSync(e.ctrun, ['--root', e.state, ...args], { encoding: 'utf8', timeout: 60_000, stdio });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitStopped(e: Env, cid: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = ctr(e, ['state', cid]);
    if (r.status !== 0 || /"status":\s*"stopped"/.test(r.stdout)) return;
    await sleep(50);
  }
  throw new Error(`container ${cid} still running after ${ms} ms`);
}

async function waitGone(pid: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && existsSync(`/proc/${pid}`)) await sleep(50);
}

/**
 * What the hostile ld.so did: it writes /attack/seen when it ran as the
 * interpreter of a host binary, then /attack/done once it wrote (or gave
 * up after 8 s).
 */
async function attackOutcome(root: string): Promise<{ seen: string | null; done: string | null }> {
  const seen = join(root, 'attack/seen');
  const done = join(root, 'attack/done');
  if (!existsSync(seen)) return { seen: null, done: null };
  const end = Date.now() + 10_000;
  while (Date.now() < end && !existsSync(done)) await sleep(100);
  return { seen: readFileSync(seen, 'utf8').trim(), done: existsSync(done) ? readFileSync(done, 'utf8').trim() : null };
}

async function assertNotOverwritten(root: string, sums: Record<string, string>, label: string): Promise<void> {
  const out = await attackOutcome(root);
  for (const [path, want] of Object.entries(sums)) {
    assert.is(sha(path), want, `${label}: ${path} was rewritten from the container (attack: ${JSON.stringify(out)})`);
  }
  assert.is(out.seen, null, `${label}: the rootfs' ld.so ran with /proc/self/exe = ${out.seen} (then: ${out.done})`);
}

/** Fresh copies of the binaries an attack can reach, and their hashes. */
function copySums(e: Env, node = false): Record<string, string> {
  freshCopies(e, node);
  return node ? { [e.ctrun]: sha(e.ctrun), [e.node]: sha(e.node) } : { [e.ctrun]: sha(e.ctrun) };
}

const ourMounts = () => mountPoints().filter((m) => m.includes(PREFIX));

// ---- CVE-2019-5736: the runtime's binary behind /proc/self/exe ----------

test('ctrun run: a #!/proc/self/exe entrypoint and a hostile ld.so cannot rewrite ctrun', async () => {
  const why = unavailable();
  if (why) return skip('security exe run', why);
  const e = setup();
  const sums = copySums(e);
  const root = exeAttackRootfs(e);
  const cid = id(e, 'exe-run');
  try {
    const r = ctr(e, ['run', '--detach', '--bundle', bundle(e, root, ['/entry']), cid], 'ignore');
    assert.is(r.status, 0, 'run --detach');
    await waitStopped(e, cid);
    await assertNotOverwritten(root, sums, 'ctrun run');
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
});

test('ctrun create + start: the same attack cannot rewrite ctrun', async () => {
  const why = unavailable();
  if (why) return skip('security exe create/start', why);
  const e = setup();
  const sums = copySums(e);
  const root = exeAttackRootfs(e);
  const cid = id(e, 'exe-create');
  try {
    assert.is(ctr(e, ['create', '--bundle', bundle(e, root, ['/entry']), cid], 'ignore').status, 0, 'create');
    assert.is(ctr(e, ['start', cid]).status, 0, 'start');
    await waitStopped(e, cid);
    await assertNotOverwritten(root, sums, 'ctrun create+start');
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
});

test('ctrun exec: the same attack cannot rewrite ctrun', async () => {
  const why = unavailable();
  if (why) return skip('security exe exec', why);
  const e = setup();
  const sums = copySums(e);
  const root = exeAttackRootfs(e);
  const cid = id(e, 'exe-exec');
  try {
    assert.is(ctr(e, ['run', '--detach', '--bundle', bundle(e, root, ['sleep', '60']), cid], 'ignore').status, 0, 'run');
    const pidFile = join(e.work, `${cid}.pid`);
    const r = ctr(e, ['exec', '--detach', '--pid-file', pidFile, cid, '/entry'], 'ignore');
    assert.is(r.status, 0, 'exec --detach');
    await waitGone(Number(readFileSync(pidFile, 'utf8')));
    await assertNotOverwritten(root, sums, 'ctrun exec');
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
});

test('@ctr/runtime API: the same attack cannot rewrite node (the cloned child is a fork of node)', async () => {
  const why = unavailable();
  if (why) return skip('security exe api', why);
  const e = setup();
  const sums = copySums(e, true);
  const root = exeAttackRootfs(e);
  const cid = id(e, 'exe-api');
  try {
    // A copy of node creates the container in-process and exits; the
    // init (forked from that node) execs the entrypoint at start.
    const script = `require(${JSON.stringify(RUNTIME_CJS)}).Container.create({ id: ${JSON.stringify(cid)}, bundle: ${JSON.stringify(
      bundle(e, root, ['/entry']),
    )}, root: ${JSON.stringify(e.state)}, stdio: 'ignore' }).then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });`;
    const r = spawnSync(e.node, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    assert.is(ctr(e, ['start', cid]).status, 0, 'start');
    await waitStopped(e, cid);
    await assertNotOverwritten(root, sums, '@ctr/runtime');
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
});

// ---- CVE-2024-21626: a leaked fd as the working directory ---------------

/** Prints LEAK when the cwd (or /proc) shows the test's host pid. */
const probe = (n: number) =>
  `ls -1a . 2>/dev/null | grep -qx ${process.pid} && echo LEAK-cwd-${n}; ls -1a /proc 2>/dev/null | grep -qx ${process.pid} && echo LEAK-proc-${n}; true`;

/** A refusal must be the coded cwd error, naming the field. */
function assertRefusedOrClean(out: string, err: string, status: number | null, label: string): void {
  assert.not.match(out, /LEAK/, `${label}: the container reached the host's /proc: ${out}`);
  if (status !== 0) assert.match(err, /cwd|working directory/, `${label}: unexpected failure: ${err}`);
}

test('ctrun run: cwd /proc/self/fd/<n> for n = 3..128 never reaches the host', () => {
  const why = unavailable();
  if (why) return skip('security cwd run', why);
  const e = setup();
  for (const n of FD_NUMBERS) {
    const cid = id(e, 'cwd-run');
    const r = ctr(e, ['run', '--bundle', bundle(e, BUSYBOX, ['sh', '-c', probe(n)], { cwd: `/proc/self/fd/${n}` }), cid]);
    ctr(e, ['delete', '--force', cid]);
    assertRefusedOrClean(r.stdout, r.stderr, r.status, `run n=${n}`);
  }
});

test('ctrun create + start: cwd /proc/self/fd/<n> never reaches the host', async () => {
  const why = unavailable();
  if (why) return skip('security cwd create/start', why);
  const e = setup();
  for (const n of FD_NUMBERS) {
    const cid = id(e, 'cwd-create');
    const outFile = join(e.work, `${cid}.out`);
    const fd = openSync(outFile, 'w');
    try {
      const c = ctr(e, ['create', '--bundle', bundle(e, BUSYBOX, ['sh', '-c', probe(n)], { cwd: `/proc/self/fd/${n}` }), cid], ['ignore', fd, 'pipe']);
      if (c.status === 0) {
        ctr(e, ['start', cid]);
        await waitStopped(e, cid);
      }
      assertRefusedOrClean(readFileSync(outFile, 'utf8'), c.stderr ?? '', c.status, `create n=${n}`);
    } finally {
      closeSync(fd);
      ctr(e, ['delete', '--force', cid]);
    }
  }
});

test('ctrun exec --cwd /proc/self/fd/<n> never reaches the host', () => {
  const why = unavailable();
  if (why) return skip('security cwd exec', why);
  const e = setup();
  const cid = id(e, 'cwd-exec');
  try {
    assert.is(ctr(e, ['run', '--detach', '--bundle', bundle(e, BUSYBOX, ['sleep', '120']), cid], 'ignore').status, 0);
    for (const n of FD_NUMBERS) {
      const r = ctr(e, ['exec', '--cwd', `/proc/self/fd/${n}`, cid, 'sh', '-c', probe(n)]);
      assertRefusedOrClean(r.stdout, r.stderr, r.status, `exec n=${n}`);
    }
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
});

async function readAll(s: NodeJS.ReadableStream | null): Promise<string> {
  if (!s) return '';
  let out = '';
  for await (const chunk of s) out += chunk.toString();
  return out;
}

test('@ctr/runtime API: create/start and exec with cwd /proc/self/fd/<n> never reach the host', async () => {
  const why = unavailable();
  if (why) return skip('security cwd api', why);
  const e = setup();
  for (const n of FD_NUMBERS) {
    const cid = id(e, 'cwd-api');
    let c: Container | null = null;
    try {
      c = await Container.create({ id: cid, bundle: bundle(e, BUSYBOX, ['sh', '-c', probe(n)], { cwd: `/proc/self/fd/${n}` }), root: e.state, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      assert.match(String((err as Error).message), /cwd|working directory/, `api create n=${n}`);
      continue;
    }
    try {
      const out = readAll(c.stdout);
      await c.start();
      await c.wait();
      assertRefusedOrClean(await out, '', 0, `api create n=${n}`);
    } finally {
      await c.delete({ force: true });
    }
  }
  const cid = id(e, 'cwd-api-exec');
  const c = await Container.create({ id: cid, bundle: bundle(e, BUSYBOX, ['sleep', '120']), root: e.state, stdio: 'ignore' });
  try {
    await c.start();
    for (const n of FD_NUMBERS) {
      let p;
      try {
        p = await c.exec(['sh', '-c', probe(n)], { cwd: `/proc/self/fd/${n}`, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        assert.match(String((err as Error).message), /cwd|working directory/, `api exec n=${n}`);
        continue;
      }
      const out = await readAll(p.stdout);
      await p.wait();
      assertRefusedOrClean(out, '', 0, `api exec n=${n}`);
    }
  } finally {
    await c.delete({ force: true });
  }
});

// ---- No runtime fd crosses into the container ---------------------------

/**
 * The fds of a container process as the host sees them, once it runs its
 * own program (busybox): read from outside, so no probe of ours adds one.
 */
async function fdsOf(pid: number): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // not yet, or gone
    }
    if (exe.endsWith('/busybox')) break;
    if (Date.now() > end) throw new Error(`pid ${pid} never ran busybox (exe ${exe})`);
    await sleep(20);
  }
  return readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b)
    .join(' ');
}

const initPid = (e: Env, cid: string) => JSON.parse(ctr(e, ['state', cid]).stdout).pid as number;

test('only 0-2 (and preserved fds) are open in the container: run, exec and the API', async () => {
  const why = unavailable();
  if (why) return skip('security fds', why);
  const e = setup();
  const b = bundle(e, BUSYBOX, ['sleep', '60']);
  let cid = id(e, 'fds');
  try {
    assert.is(ctr(e, ['run', '--detach', '--bundle', b, cid], 'ignore').status, 0);
    assert.is(await fdsOf(initPid(e, cid)), '0 1 2', 'run');
    const pidFile = join(e.work, `${cid}.exec.pid`);
    assert.is(ctr(e, ['exec', '--detach', '--pid-file', pidFile, cid, 'sleep', '60'], 'ignore').status, 0);
    assert.is(await fdsOf(Number(readFileSync(pidFile, 'utf8'))), '0 1 2', 'exec');
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
  cid = id(e, 'fds');
  const extra = openSync('/dev/null', 'r');
  try {
    const r = spawnSync(e.ctrun, ['--root', e.state, 'run', '--detach', '--preserve-fds', '2', '--bundle', b, cid], { stdio: ['ignore', 'ignore', 'ignore', extra, extra] });
    assert.is(r.status, 0);
    assert.is(await fdsOf(initPid(e, cid)), '0 1 2 3 4', 'run --preserve-fds 2');
  } finally {
    closeSync(extra);
    ctr(e, ['delete', '--force', cid]);
  }
  const c = await Container.create({ id: id(e, 'fds'), bundle: b, root: e.state, stdio: 'ignore' });
  try {
    await c.start();
    assert.is(await fdsOf(c.pid), '0 1 2', 'api init');
    const p = await c.exec(['sleep', '60'], { stdio: 'ignore' });
    assert.is(await fdsOf(p.pid), '0 1 2', 'api exec');
  } finally {
    await c.delete({ force: true });
  }
});

// ---- The cgroup namespace is rooted at the container's cgroup -----------

function assertCgroupRoot(text: string, label: string): void {
  const lines = text.trim().split('\n').filter(Boolean);
  assert.ok(lines.length > 0, `${label}: empty /proc/self/cgroup`);
  for (const l of lines) assert.ok(l.endsWith(':/'), `${label}: ${l} (want every path "/"; got:\n${text})`);
}

test('/proc/self/cgroup reads "/" paths (0::/ on v2): run, exec and the API', async () => {
  const why = unavailable();
  if (why) return skip('security cgroupns', why);
  const e = setup();
  let cid = id(e, 'cgns');
  const r = ctr(e, ['run', '--bundle', bundle(e, BUSYBOX, ['cat', '/proc/self/cgroup']), cid]);
  ctr(e, ['delete', '--force', cid]);
  assert.is(r.status, 0, r.stderr);
  assertCgroupRoot(r.stdout, 'run');
  cid = id(e, 'cgns');
  try {
    assert.is(ctr(e, ['run', '--detach', '--bundle', bundle(e, BUSYBOX, ['sleep', '60']), cid], 'ignore').status, 0);
    const x = ctr(e, ['exec', cid, 'cat', '/proc/self/cgroup']);
    assert.is(x.status, 0, x.stderr);
    assertCgroupRoot(x.stdout, 'exec');
  } finally {
    ctr(e, ['delete', '--force', cid]);
  }
  const c = await Container.create({ id: id(e, 'cgns'), bundle: bundle(e, BUSYBOX, ['cat', '/proc/self/cgroup']), root: e.state, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const out = readAll(c.stdout);
    await c.start();
    await c.wait();
    assertCgroupRoot(await out, 'api');
  } finally {
    await c.delete({ force: true });
  }
});

// ---- Symlinks planted where the runtime mounts ---------------------------

test('symlinks planted at /dev, /dev/pts, /dev/null, /sys/fs/cgroup and /proc redirect nothing out of the rootfs', () => {
  const why = unavailable();
  if (why) return skip('security symlinks', why);
  const e = setup();
  const before = ourMounts();
  const escapes = join(e.work, 'escapes');
  mkdirSync(escapes);
  // Through the pre-pivot /proc (the host's root) and as plain host paths.
  const targets = (name: string) => [`/proc/self/root${escapes}/${name}`, `${escapes}/${name}-abs`, `../../../../../../..${escapes}/${name}-rel`];
  for (const at of ['dev', 'dev/pts', 'dev/null', 'sys/fs/cgroup', 'proc', 'dev/shm']) {
    for (const target of targets(at.replace(/\//g, '_'))) {
      const root = rootfs(e, 'link', (dir) => {
        rmSync(join(dir, at), { recursive: true, force: true });
        mkdirSync(dirname(join(dir, at)), { recursive: true });
        symlinkSync(target, join(dir, at));
      });
      const cid = id(e, 'link');
      const r = ctr(e, ['run', '--bundle', bundle(e, root, ['true']), cid]);
      ctr(e, ['delete', '--force', cid]);
      if (r.status !== 0) assert.match(r.stderr, /\[E[A-Z_]+\]/, `${at} -> ${target}: uncoded failure ${r.stderr}`);
      assert.equal(readdirSync(escapes), [], `${at} -> ${target}: created on the host: ${readdirSync(escapes)}`);
      rmSync(root, { recursive: true, force: true });
    }
  }
  assert.equal(ourMounts(), before, 'mounts left on the host');
});

test('a masked path never gets a planted /dev/null: a symlink to a /proc file is refused (CVE-2025-31133 class)', () => {
  const why = unavailable();
  if (why) return skip('security masked paths', why);
  const e = setup();
  // No /dev mount in the config: the image's /dev is the one masking uses.
  const root = rootfs(e, 'mask', (dir) => {
    mkdirSync(join(dir, 'dev'), { recursive: true });
    symlinkSync('/proc/sys/kernel/hostname', join(dir, 'dev/null'));
  });
  // A file of the default maskedPaths that this kernel has (a missing one
  // is not masked at all).
  const masked = (e.baseConfig.linux.maskedPaths as string[]).find((p) => !p.endsWith('kcore') && existsSync(p) && !statSync(p).isDirectory());
  if (!masked) return skip('security masked paths', 'no file of the default maskedPaths exists on this kernel');
  const cid = id(e, 'mask');
  const r = ctr(e, ['run', '--bundle', bundle(e, root, ['sh', '-c', `head -c 64 ${masked}; echo END`], { noDev: true }), cid]);
  ctr(e, ['delete', '--force', cid]);
  if (r.status === 0) {
    assert.is(r.stdout, 'END\n', `${masked} was masked with something else than /dev/null: ${JSON.stringify(r.stdout)}`);
  } else {
    assert.match(r.stderr, /\[E[A-Z_]+\]/, r.stderr);
    assert.not.match(r.stdout, /runc|END/, r.stdout);
  }
});

test.after(() => {
  if (!env) return;
  for (const [path, want] of Object.entries(env.realSums)) {
    if (sha(path) !== want) throw new Error(`${path} changed during the security suite`);
  }
  rmSync(env.work, { recursive: true, force: true });
});

test.run();
