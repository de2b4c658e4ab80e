import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { leftovers, isRoot, skip, snapshot, vmProfile } from '../test-support';
import { tag } from '../docs/examples/tutorial/log';

// The tutorial (docs/tutorial.md) embeds these files; here they run, and
// what the page says they show is asserted: the numbers, the OOM kill, the
// refused call, the route, the replaced replica. Nothing may stay behind.

const lines: string[] = [];
const page = readFileSync(new URL('../docs/tutorial.md', import.meta.url), 'utf8');
/** The lines of this step's output that the page shows verbatim (no pid, path or time in them). */
function onPage(...patterns: RegExp[]) {
  const out = lines.join('\n').split('\n');
  for (const p of patterns) {
    const line = out.find((l) => p.test(l));
    assert.ok(line, `no output line matches ${p}:\n${out.join('\n')}`);
    assert.ok(page.includes(line!.trim()), `docs/tutorial.md does not show what the step prints: ${line}`);
  }
}
const log = (l: string) => lines.push(l);
const rootfsReady = existsSync(new URL('../.cache/rootfs/busybox/bin/busybox', import.meta.url));

/** Objects named with the tutorial's tag: containers' state dirs, cgroups, links. */
function taggedObjects(): string[] {
  const found: string[] = [];
  for (const d of ['/run/ctrun', '/sys/class/net']) if (existsSync(d)) found.push(...readdirSync(d).filter((n) => n.startsWith(tag)).map((n) => `${d}/${n}`));
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      found.push(...readdirSync(`/sys/fs/cgroup/${h}`).filter((n) => n.startsWith(tag)).map((n) => `/sys/fs/cgroup/${h}/${n}`));
    } catch {
      // a file, not a hierarchy
    }
  }
  return found;
}

function step(name: string, body: () => Promise<void>, opts: { rootfs?: boolean; heavy?: boolean } = {}) {
  test(name, async () => {
    if (!isRoot) return skip(name, 'needs root');
    if (opts.rootfs && !rootfsReady) return skip(name, 'no busybox rootfs (run scripts/make-rootfs.sh)');
    if (opts.heavy && vmProfile()) return skip(name, `five containers and a health check: too slow under TCG (${vmProfile()} guest); the host run covers it`);
    const before = snapshot();
    lines.length = 0;
    await body();
    assert.equal(leftovers(before), [], name);
    assert.equal(taggedObjects(), [], `${name}: objects left`);
  });
}

step('(1) a shell in new pid, net and mnt namespaces sees only itself and PID 1', async () => {
  const { main } = await import('../docs/examples/tutorial/1-namespaces');
  const r = await main(log);
  assert.match(lines.join('\n'), /my pid: 1\n/);
  assert.equal(r.processes.map((p) => p.pid), [1, 2]);
  assert.equal(r.processes.map((p) => p.comm), ['sh', 'ps']);
});

step('(2) a new network namespace has only lo, down', async () => {
  const { main } = await import('../docs/examples/tutorial/2-netns');
  const r = await main(log);
  assert.equal(r.links, [{ name: 'lo', up: false }]);
  assert.match(r.ipLink.trim(), /^lo\s+DOWN\s/);
  assert.is(r.ipLink.trim().split('\n').length, 1);
  onPage(/^lo /, /^NetNS.create/);
});

step('(3) memory cgroup: default limit, 5000000 written and 4997120 read, an OOM kill reported', async () => {
  const { main } = await import('../docs/examples/tutorial/3-cgroup');
  const r = await main(log);
  assert.ok(r.files.includes(r.limitFile));
  assert.ok(r.defaultLimit === 'max' || Number(r.defaultLimit) > 2 ** 62, r.defaultLimit);
  assert.is(r.limit, 4997120);
  assert.is(r.signal, 'SIGKILL');
  assert.ok(r.event && (r.event as { type: string }).type === 'oom_kill', JSON.stringify(r.event));
  assert.is(r.oomKill, 1);
  onPage(/^wrote/); // the event's and the files' lines differ between v1 and v2: asserted above
});

step('(4) seccomp: Docker default counted and explained; an argument condition allows one call and refuses another', async () => {
  const { main } = await import('../docs/examples/tutorial/4-seccomp');
  const r = await main(log);
  assert.ok(r.total > 300, `${r.total} syscalls`);
  assert.ok(r.blocked.includes('reboot') && r.blocked.includes('kexec_load') && !r.blocked.includes('read'));
  assert.equal(r.onlySome.sort(), ['clone', 'personality', 'socket']);
  assert.is(r.reboot.action, 'errno');
  assert.is(r.reboot.errno, 1);
  assert.is(r.verdicts.linux.action, 'allow');
  assert.is(r.verdicts.linux32.action, 'errno');
  assert.is(r.allowedRun.exitCode, 0);
  assert.is(r.allowedRun.stdout.trim(), 'x86_64');
  assert.is(r.refusedRun.exitCode, 1);
  assert.match(r.refusedRun.stderr, /Operation not permitted/);
  onPage(/^docker default/, /^evaluate\(reboot/, /^evaluate\(personality/, /^\$ setarch x86_64/, /^\$ setarch i686/);
});

step('(5) two networks are isolated until a router namespace routes between them', async () => {
  const { main } = await import('../docs/examples/tutorial/5-networks');
  const r = await main(log);
  assert.equal(r.before, { a1a2: true, b1b2: true, a1b1: false });
  assert.equal(r.after, { a1b1: true, b2a2: true });
  assert.ok(r.routes.includes('default via 10.1.1.1'), r.routes.join('; '));
  assert.match(r.traceroute, /1\s+10\.1\.1\.1\s.*\n\s*2\s+10\.1\.2\.2\s/);
  onPage(/^same network/, /^router on/, /^a1's routes/);
}, { rootfs: false });

step('(6) a container from a bundle, with @ctr/runtime and with ctrun', async () => {
  const { main } = await import('../docs/examples/tutorial/6-bundle');
  const r = await main(log);
  assert.is(r.state, 'created');
  assert.is(r.limit, 64 * 1024 * 1024);
  assert.equal(r.exit, { exitCode: 0, signal: null });
  assert.is(r.inProcess.trim(), 'hello from bundled, pid 1, uid 0');
  assert.is(r.ctrun.trim(), 'hello from bundled, pid 1, uid 0');
  onPage(/^config.json/, /^hello from bundled/);
}, { rootfs: true });

step('(7) the supermarket: three services, three payment replicas behind one port, a killed replica replaced', async () => {
  const { main } = await import('../docs/examples/tutorial/7-supermarket');
  const r = await main(log);
  assert.equal(r.first.map((a) => a.replace(/ charged.*/, '')).sort(), ['payment-1', 'payment-2', 'payment-3']);
  assert.match(r.first[0], /charged for apples: 99 left$/);
  assert.is(r.replaced.length, 1);
  assert.not.match(r.events.join('\n'), /health check failed/);
  assert.match(r.replaced[0].old, /-payment-2$/);
  assert.match(r.events.join('\n'), /health check: payment-2 .* does not answer; replacing it/);
  assert.is(r.after.length, 3);
  assert.ok(r.after.some((a) => a.startsWith('payment-2-g')), r.after.join('\n'));
  assert.equal(r.after.map((a) => a.replace(/^.* left|^.*: /, '')).length, 3);
  assert.match(r.after.join('\n'), /truffles: 0 left/);
  for (const [id, limit] of Object.entries(r.limits)) assert.is(limit, id.endsWith('database') ? 32 << 20 : 16 << 20, id);
}, { rootfs: true, heavy: true });

// The home page's and the getting-started guide's examples run too, and
// print what their comments promise.
step('the home page and getting-started examples print what their comments say', async () => {
  const runExample = (file: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_DISABLE_COLORS: '1' } });
    // eslint-disable-next-line no-control-regex
    return { ...r, stdout: r.stdout.replace(/\x1b\[[0-9;]*m/g, '') }; // console.log colours booleans when FORCE_COLOR is set
  };
  const home = runExample('docs/examples/home.ts');
  assert.is(home.status, 0, home.stderr);
  assert.match(home.stdout, /^hello from box\n true SIGKILL$/m, JSON.stringify(home.stdout + home.stderr));
  const start = runExample('docs/examples/getting-started.ts');
  assert.is(start.status, 0, start.stderr);
  assert.match(start.stdout, /^hello\nexit 0\nERUNTIME_INVALID_ID\nid undefined$/m, JSON.stringify(start.stdout + start.stderr));
}, { rootfs: true });

test.run();
