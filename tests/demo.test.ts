import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { hostLeftovers, isRoot, skip, vmProfile } from '../test-support';

// `npm run demo` is the README's first command: it must keep working, show
// all seven steps, and leave nothing behind (cgroups, links, containers).
test('the demo walks the seven tutorial steps and leaves nothing behind', () => {
  if (!isRoot) return skip('demo', 'needs root');
  if (vmProfile()) return skip('demo', `the same steps run in tests/tutorial.test.ts; five containers and a health check are too slow under TCG (${vmProfile()} guest)`);
  if (!existsSync('.cache/rootfs/busybox/bin/busybox')) return skip('demo', 'no busybox rootfs (run scripts/make-rootfs.sh)');
  const r = spawnSync(process.execPath, ['scripts/demo.mjs'], { encoding: 'utf8', timeout: 180_000 });
  // eslint-disable-next-line no-control-regex
  const out = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
  assert.is(r.status, 0, out);
  for (let i = 1; i <= 7; i++) assert.match(out, new RegExp(`^${i}\\. `, 'm'), `step ${i} shown`);
  assert.is((out.match(/^✔ /gm) ?? []).length, 7, out);
  assert.match(out, /my pid: 1\n/);
  assert.match(out, /wrote 5000000, read back 4997120/);
  assert.match(out, /Operation not permitted/);
  assert.match(out, /router on: a1 -> b1 ok/);
  assert.match(out, /health check: payment-2 .* does not answer; replacing it/);
  assert.match(out, /all steps worked/);
  const tag = `tut${(r.pid ?? 0) % 100000}`; // the demo's objects are named tut<pid>
  // The shared leftover check: cgroups in every hierarchy, mounts, netns, links, nft tables, processes.
  assert.equal(hostLeftovers(tag), []);
  if (existsSync('/run/ctrun')) assert.equal(readdirSync('/run/ctrun').filter((d) => d.startsWith(tag)), []);
});

test.run();
