// runtime-spec 1.3 through the in-process API: linux.netDevices (a veth end
// made here, moved in renamed and back on delete), linux.memoryPolicy (read
// back from /proc/self/numa_maps), and Container.update's checkBeforeUpdate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetNS } from '@ctr/netns';
import { Container, RuntimeError } from '../src/index';
import { skip, snapshot, eventually, cgroupController } from '../../../test-support';
import { leftovers, readAll, ready, workspace } from './support';

const ws = workspace('spec13');
const { root } = ws;
const newId = ws.newId;

function bundle(args: string[], linux: Record<string, unknown> = {}): string {
  return ws.bundle(args, {
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }], ...linux },
  });
}

test('netDevices: a host veth end moves in renamed with its address, and back down on delete', async () => {
  if (!ready('netDevices')) return;
  const before = snapshot();
  const host = await NetNS.host();
  const name = `ctrtdj${process.pid}`;
  const peer = `${name}p`;
  const cidr = `10.214.${process.pid % 250}.1/24`;
  await host.createVeth(name, peer);
  try {
    await host.addAddress(name, cidr);
    await host.up(name);
    const id = newId();
    const c = await Container.create({ id, bundle: bundle(['sleep', '100'], { netDevices: { [name]: { name: 'ctrin0' } } }), root, stdio: 'ignore' });
    try {
      assert.is(await host.link(name), null, 'gone from the host');
      await c.start();
      const inside = await NetNS.open({ pid: c.pid });
      try {
        const l = await inside.link('ctrin0');
        assert.ok(l && l.up, 'renamed and up inside');
        const addrs = (await inside.addresses('ctrin0')).map((a) => `${a.address}/${a.prefix}`);
        assert.ok(addrs.includes(cidr), addrs.join(' '));
      } finally {
        inside.close();
      }
    } finally {
      await c.delete({ force: true });
    }
    const back = await host.link(name);
    assert.ok(back, 'back on the host under its own name');
    assert.not.ok(back!.up, 'down, as the spec asks');
    assert.ok((await host.addresses(name)).some((a) => `${a.address}/${a.prefix}` === cidr), 'with its address');
  } finally {
    if (await host.link(name)) await host.deleteLink(name);
    host.close();
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('netDevices: a missing device is a coded error naming the field, and nothing is left', async () => {
  if (!ready('netDevices errors')) return;
  const before = snapshot();
  const id = newId();
  const missing = `ctrtdm${process.pid}`;
  try {
    await Container.create({ id, bundle: bundle(['sleep', '100'], { netDevices: { [missing]: {} } }), root, stdio: 'ignore' });
    assert.unreachable('created');
  } catch (e) {
    const err = e as RuntimeError;
    assert.instance(err, RuntimeError);
    assert.is(err.code, 'ERUNTIME_NET_DEVICE');
    assert.is(err.path, `linux.netDevices.${missing}`);
    assert.is(err.errno, 19 /* ENODEV */);
  }
  assert.not.ok(existsSync(join(root, id)));
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('memoryPolicy: the container process runs under it', async () => {
  if (!ready('memoryPolicy')) return;
  if (!existsSync('/proc/self/numa_maps')) return skip('memoryPolicy', 'no NUMA support in this kernel');
  const before = snapshot();
  const id = newId();
  const c = await Container.create({
    id,
    bundle: bundle(['cat', '/proc/self/numa_maps'], { memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' } }),
    root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const out = readAll(c.stdout);
    await c.start();
    assert.ok((await out).split('\n')[0].includes(' bind:0 '), await out);
    assert.equal(await c.wait(), { exitCode: 0, signal: null });
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test('update with checkBeforeUpdate refuses a memory limit below the usage', async () => {
  if (!ready('checkBeforeUpdate')) return;
  const mem = cgroupController('memory');
  if (!mem) return skip('checkBeforeUpdate', 'no memory controller');
  const before = snapshot();
  const id = newId();
  const c = await Container.create({ id, bundle: bundle(['sleep', '100'], { resources: { memory: { limit: 64 << 20 } } }), root, stdio: 'ignore' });
  try {
    await c.start();
    const dir = join(mem.path, id);
    const limitFile = ['memory.limit_in_bytes', 'memory.max'].map((f) => join(dir, f)).find(existsSync)!;
    const limit = () => readFileSync(limitFile, 'utf8').trim();
    assert.is(limit(), String(64 << 20));
    try {
      await c.update({ memory: 4096 }, { checkBeforeUpdate: true });
      assert.unreachable('a limit below the usage was written');
    } catch (e) {
      assert.is((e as RuntimeError).code, 'ERUNTIME_MEMORY_BELOW_USAGE', String(e));
      assert.match((e as RuntimeError).message, /lower than current usage/);
    }
    assert.is(limit(), String(64 << 20), 'unchanged');
    await c.update({ memory: '32m' }, { checkBeforeUpdate: true });
    assert.is(limit(), String(32 << 20));
  } finally {
    await c.delete({ force: true });
  }
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test.after(ws.remove);
test.run();
