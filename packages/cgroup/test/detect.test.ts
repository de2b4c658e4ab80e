// tier: fast (no root, no kernel objects: runs in `npm run test:fast`)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import { detect } from '../src/index';

test('detect() reports every cgroup mount of /proc/self/mountinfo with its version', () => {
  const layout = detect();
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l));
  assert.is(layout.hierarchies.length, mounts.length);
  for (const line of mounts) {
    const mp = line.split(' ')[4];
    const fstype = line.split(' - ')[1].split(' ')[0];
    const h = layout.hierarchies.find((x) => x.mountPoint === mp);
    assert.ok(h, `missing ${mp}`);
    assert.is(h!.version, fstype === 'cgroup2' ? 2 : 1);
  }
  const v1 = layout.hierarchies.some((h) => h.version === 1);
  const v2 = layout.hierarchies.some((h) => h.version === 2);
  assert.is(layout.mode, v1 && v2 ? 'hybrid' : v2 ? 'unified' : 'legacy');
});

test('v2 controllers come from cgroup.controllers; own paths from /proc/self/cgroup', () => {
  const layout = detect();
  const self = readFileSync('/proc/self/cgroup', 'utf8');
  for (const h of layout.hierarchies) {
    if (h.version === 2) {
      const want = readFileSync(`${h.mountPoint}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
      assert.equal(h.controllers, want);
      assert.ok(self.includes(`0::${h.ownPath}`));
    } else {
      assert.ok(existsSync(h.mountPoint));
      assert.ok(self.includes(`:${h.ownPath}`), `${h.mountPoint} ${h.ownPath}`);
    }
  }
});

test('cgroup namespace and delegation are reported', async () => {
  const layout = detect();
  const { readlinkSync } = await import('node:fs');
  let expected: boolean | undefined;
  try {
    expected = readlinkSync('/proc/self/ns/cgroup') !== readlinkSync('/proc/1/ns/cgroup');
  } catch {
    expected = undefined;
  }
  assert.is(layout.cgroupNamespace, expected);
  for (const h of layout.hierarchies) {
    if (h.version === 1 || process.getuid!() === 0) assert.is(h.delegated, false);
  }
});

test.run();
