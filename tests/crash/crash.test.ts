// Crash test (docs/runtime.md, "State protocol"): `kill -9` of `ctrun
// create`, `ctrun run -d`, `ctrun start`, `ctrun delete` and of a Node
// process driving the API (once plain, once with a bridged network and a
// published port), each at a random instant over the time the command
// takes. After every kill the id must be listed or gone, `delete
// --force` must succeed, and the id must be reusable; at the end nothing of
// the test may remain (processes, cgroups in every hierarchy, mounts,
// netns, links, nft tables, fds, state), and the bridge network holds no
// lease, veth or published port after each recovery.
//
// Seeded and reproducible: CTR_CRASH_SEED=<n> replays a run (the seed is
// printed), CTR_CRASH_KILLS=<n> sets the kills per command (default 200 on
// a host; 15 in the TCG guests of test-vms, where every ctrun call is
// 5-25x slower and 1,000 kills would take most of an hour).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, type Ran } from './support';
import { Container, gc } from '../../packages/runtime/src/index';
import { BridgeNetwork, NetnsError } from '../../packages/netns/src/index';
import { hostLeftovers, isRoot, networkLeftovers, rootSubtreeControl, seededRandom, skip, snapshot, leftovers, vmProfile } from '../../test-support';

const repo = resolve(__dirname, '../..');
const ctrun = join(repo, 'packages/runtime/bin/ctrun');
const rootfs = join(repo, '.cache/rootfs/busybox');
const runtimeDist = join(repo, 'packages/runtime/dist/index.cjs');
const PREFIX = `ctrcrash${process.pid}`;
const kills = Number(process.env.CTR_CRASH_KILLS ?? (vmProfile() ? 15 : 200));
const seed = Number(process.env.CTR_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

function ready(name: string): boolean {
  if (!isRoot) return (skip(name, 'needs root'), false);
  if (!existsSync(join(rootfs, 'bin/busybox'))) return (skip(name, 'no busybox rootfs (scripts/make-rootfs.sh)'), false);
  if (!existsSync(ctrun) || !existsSync(runtimeDist)) return (skip(name, 'ctrun or @ctr/runtime not built (pnpm run build)'), false);
  return true;
}

let bridgeSkip = '';
/** A bridge network of the test on a free subnet, or null (with the reason in bridgeSkip) where none can be made. */
async function bridgeNetwork(name: string): Promise<BridgeNetwork | null> {
  for (let i = 0; i < 20; i++) {
    const subnet = `10.226.${(process.pid + i * 37) % 250}.0/24`;
    try {
      return await BridgeNetwork.create({ name, subnet });
    } catch (e) {
      if (e instanceof NetnsError && e.code === 'ENETNS_SUBNET_OVERLAP') continue;
      if (e instanceof NetnsError && e.code === 'ENETNS_NFT_MISSING') return ((bridgeSkip = 'no libnftables (bridge networks need it)'), null);
      throw e;
    }
  }
  bridgeSkip = 'no free 10.226.x.0/24 subnet';
  return null;
}

test('kill -9 at random instants of create, run -d, start, delete and a Node API process (plain, and bridged with a published port): every id is listed or gone, deletable and reusable; nothing is left', async () => {
  if (!ready('crash')) return;
  const subtreeBefore = rootSubtreeControl();
  const before = snapshot();
  const work = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
  const root = join(work, 'state');
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  writeFileSync(
    join(bundle, 'config.json'),
    JSON.stringify({
      ociVersion: '1.2.0',
      root: { path: rootfs },
      process: { cwd: '/', args: ['sleep', '1000'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }],
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }],
        resources: { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 64 } },
      },
    }),
  );
  // The Node side: a process that creates and starts a container through the API, then stays.
  const nodeScript = join(work, 'api.cjs');
  writeFileSync(
    nodeScript,
    `const { Container } = require(${JSON.stringify(runtimeDist)});
(async () => {
  const [root, id, bundle] = process.argv.slice(2);
  const c = await Container.create({ id, bundle, root, stdio: ['ignore', 'ignore', 'ignore'] });
  await c.start();
  process.stdout.write('started\\n');
  await c.kill('SIGKILL');
  await c.wait();
  await c.delete({ force: true });
  process.stdout.write('deleted\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  // The bridged Node side: the same, attached to a network with a published port.
  const netName = PREFIX.slice(0, 15);
  const hostPort = 30000 + (process.pid % 20000);
  const net = await bridgeNetwork(netName);
  const nodeNetScript = join(work, 'api-net.cjs');
  writeFileSync(
    nodeNetScript,
    `const { Container } = require(${JSON.stringify(runtimeDist)});
(async () => {
  const [root, id, bundle, net, port] = process.argv.slice(2);
  const c = await Container.create({ id, bundle, root, stdio: ['ignore', 'ignore', 'ignore'], network: { bridge: net, ports: [{ hostPort: Number(port), containerPort: 80 }] } });
  await c.start();
  process.stdout.write('started ' + c.network.address + '\\n');
  await c.kill('SIGKILL');
  await c.wait();
  await c.delete({ force: true });
  process.stdout.write('deleted\\n');
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  const ct = (...args: string[]): Promise<Ran> => run(ctrun, ['--root', root, ...args]);
  const ok = async (r: Promise<Ran>, what: string): Promise<void> => {
    const x = await r;
    assert.is(x.code, 0, `${what}: ${x.out}`);
  };
  interface Command {
    name: string;
    /** Make what the command needs (not killed). */
    setup?: (id: string) => Promise<void>;
    args: (id: string) => [string, string[]];
    /** Checked after each recovery: what of the command's own objects is left. */
    left?: () => string[];
  }
  const commands: Command[] = [
    { name: 'create', args: (id) => [ctrun, ['--root', root, 'create', '--bundle', bundle, id]] },
    { name: 'run -d', args: (id) => [ctrun, ['--root', root, 'run', '-d', '--bundle', bundle, id]] },
    { name: 'start', setup: (id) => ok(ct('create', '--bundle', bundle, id), 'setup create'), args: (id) => [ctrun, ['--root', root, 'start', id]] },
    { name: 'delete', setup: (id) => ok(ct('run', '-d', '--bundle', bundle, id), 'setup run -d'), args: (id) => [ctrun, ['--root', root, 'delete', '--force', id]] },
    { name: 'node', args: (id) => [process.execPath, [nodeScript, root, id, bundle]] },
  ];
  if (net) commands.push({ name: 'node bridge', args: (id) => [process.execPath, [nodeNetScript, root, id, bundle, netName, String(hostPort)]], left: () => networkLeftovers(netName) });
  else process.stdout.write(`SKIP: crash: node bridge: ${bridgeSkip}\n`);
  const rand = seededRandom(seed);
  process.stdout.write(`\ncrash: seed ${seed} (CTR_CRASH_SEED=${seed} replays it), ${kills} kills per command${vmProfile() ? ` (scaled down in the ${vmProfile()} guest: TCG is 5-25x slower)` : ''}\n`);
  let n = 0;
  const counts: Record<string, { kills: number; recovered: number; killedMidway: number }> = {};
  let netLeft: string[] = [];
  try {
    for (const c of commands) {
      // How long the command takes when left alone (median of 3): kills land over that range.
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const id = `${PREFIX}-${n++}`;
        await c.setup?.(id);
        const [cmd, args] = c.args(id);
        const r = await run(cmd, args);
        assert.is(r.code, 0, `${c.name} (uncut): ${r.out}`);
        times.push(r.ms);
        await ok(ct('delete', '--force', id), `delete after ${c.name}`);
      }
      const span = times.sort((a, b) => a - b)[1] * 1.2;
      counts[c.name] = { kills: 0, recovered: 0, killedMidway: 0 };
      for (let i = 0; i < kills; i++) {
        const id = `${PREFIX}-${n++}`;
        await c.setup?.(id);
        const [cmd, args] = c.args(id);
        const delay = rand() * span;
        const r = await run(cmd, args, delay);
        counts[c.name].kills++;
        if (r.signal === 'SIGKILL') counts[c.name].killedMidway++;
        // Listed, or gone without a trace.
        const listed = (await ct('list', '--quiet')).out.split('\n').includes(id);
        const dir = existsSync(join(root, id));
        assert.ok(listed || !dir, `${c.name} killed after ${delay.toFixed(1)} ms: ${id} has a state directory that list does not show`);
        await ok(ct('delete', '--force', id), `${c.name} killed after ${delay.toFixed(1)} ms: delete --force ${id}`);
        assert.not.ok(existsSync(join(root, id)), `${id}: state directory left after delete --force`);
        const netLeft = c.left?.() ?? [];
        assert.equal(netLeft, [], `${c.name} killed after ${delay.toFixed(1)} ms: after delete --force ${id}: ${netLeft.join('; ')}`);
        // Reusable at once.
        await ok(ct('create', '--bundle', bundle, id), `${c.name} killed after ${delay.toFixed(1)} ms: reuse ${id}`);
        await ok(ct('delete', '--force', id), `delete of the reused ${id}`);
        counts[c.name].recovered++;
      }
      const k = counts[c.name];
      process.stdout.write(`crash: ${c.name}: ${k.kills} kills (${k.killedMidway} before it finished, over 0-${span.toFixed(0)} ms), ${k.recovered} recovered\n`);
    }
  } finally {
    // Clean up whatever an assertion left, then check.
    for (const id of existsSync(root) ? readdirSync(root) : []) {
      if (!id.startsWith('.')) spawnSync(ctrun, ['--root', root, 'delete', '--force', id]);
    }
    spawnSync(ctrun, ['--root', root, 'gc']);
    // The network's leases, veths and ports first: deleting the network would detach them.
    netLeft = net ? networkLeftovers(netName) : [];
    await net?.delete();
  }
  const left = [...netLeft, ...hostLeftovers(PREFIX, { stateRoots: [root] }), ...leftovers(before).filter((l) => !l.startsWith('mounts left'))];
  const total = Object.values(counts).reduce((a, c) => ({ kills: a.kills + c.kills, recovered: a.recovered + c.recovered }), { kills: 0, recovered: 0 });
  process.stdout.write(`crash: ${total.kills} kills, ${total.recovered} recovered, leftovers = ${left.length}\n`);
  rmSync(work, { recursive: true, force: true });
  assert.equal(left, [], left.join('\n'));
  assert.is(rootSubtreeControl(), subtreeBefore, 'the cgroup2 root subtree_control changed');
});

test('a Node process killed with containers: Container.list() shows them, gc() and delete({ force }) remove them; detached containers stay', async () => {
  if (!ready('crash gc')) return;
  const work = mkdtempSync(join(tmpdir(), `${PREFIX}-gc-`));
  const root = join(work, 'state');
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  writeFileSync(
    join(bundle, 'config.json'),
    JSON.stringify({ ociVersion: '1.2.0', root: { path: rootfs }, process: { cwd: '/', args: ['sleep', '1000'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } }),
  );
  const script = join(work, 'api.cjs');
  writeFileSync(
    script,
    `const { Container } = require(${JSON.stringify(runtimeDist)});
Container.create({ id: process.argv[3], bundle: process.argv[4], root: process.argv[2], stdio: ['ignore', 'ignore', 'ignore'] })
  .then((c) => c.start()).then(() => { process.stdout.write('started\\n'); setInterval(() => {}, 1000); });
`,
  );
  const api = `${PREFIX}-gc-api`;
  const detached = `${PREFIX}-gc-detached`;
  const api2 = `${PREFIX}-gc-api2`;
  try {
    const p = spawn(process.execPath, [script, root, api, bundle], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => p.stdout.on('data', (c: Buffer) => c.toString().includes('started') && r()));
    const d = await run(ctrun, ['--root', root, 'run', '-d', '--bundle', bundle, detached]);
    assert.is(d.code, 0, d.out);
    // Owner alive: gc leaves both.
    let g = spawnSync(ctrun, ['--root', root, 'gc'], { encoding: 'utf8' });
    assert.is(g.status, 0, g.stderr);
    assert.is(g.stdout.trim(), '');
    p.kill('SIGKILL');
    await new Promise((r) => p.once('close', r));
    // The Node API sees the orphan and removes it with gc().
    const list = await Container.list(root);
    assert.equal(list.map((s) => [s.id, s.status]).sort(), [[api, 'running'], [detached, 'running']].sort());
    const r = await gc(root);
    assert.equal([r.removed, r.failed], [[api], []]);
    assert.equal(spawnSync(ctrun, ['--root', root, 'list', '--quiet'], { encoding: 'utf8' }).stdout.trim(), detached);
    assert.equal(hostLeftovers(api, { skipNft: true }), []);
    // And one whose Node process was killed goes with delete({ force }) of a Container loaded by id.
    const p2 = spawn(process.execPath, [script, root, api2, bundle], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => p2.stdout.on('data', (c: Buffer) => c.toString().includes('started') && r()));
    p2.kill('SIGKILL');
    await new Promise((r) => p2.once('close', r));
    assert.ok((await Container.list(root)).some((s) => s.id === api2));
    await (await Container.load(api2, root)).delete({ force: true });
    assert.not.ok((await Container.list(root)).some((s) => s.id === api2));
    assert.equal(hostLeftovers(api2, { skipNft: true }), []);
    // ctrun gc too: nothing of a dead owner is left, the detached container stays.
    g = spawnSync(ctrun, ['--root', root, 'gc'], { encoding: 'utf8' });
    assert.is(g.status, 0, g.stderr);
    assert.is(g.stdout.trim(), '');
  } finally {
    spawnSync(ctrun, ['--root', root, 'delete', '--force', api]);
    spawnSync(ctrun, ['--root', root, 'delete', '--force', detached]);
    spawnSync(ctrun, ['--root', root, 'delete', '--force', api2]);
  }
  const left = hostLeftovers(`${PREFIX}-gc`, { stateRoots: [root] });
  rmSync(work, { recursive: true, force: true });
  assert.equal(left, []);
});

test.run();
