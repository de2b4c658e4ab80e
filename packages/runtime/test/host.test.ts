import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { hostInfo } from '../src/index';
import { cgroupLayout } from '../../../test-support';

test('hostInfo() reports the spec version, namespaces and cgroup mode of this host', () => {
  const h = hostInfo();
  assert.match(h.ociVersion, /^1\.\d+\.\d+$/);
  const ns = readdirSync('/proc/self/ns').filter((n) => ['mnt', 'pid', 'net', 'uts', 'ipc', 'user', 'cgroup', 'time'].includes(n));
  assert.equal([...h.namespaces].sort(), ns.sort());
  assert.is(h.cgroupMode, cgroupLayout());
});

test.run();
