import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import { kernelSupport } from '../src/index';

test('kernelSupport() matches /proc/sys/kernel/seccomp/actions_avail', () => {
  const s = kernelSupport();
  assert.is(s.available, /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8')));
  const file = '/proc/sys/kernel/seccomp/actions_avail';
  const want = existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/) : [];
  assert.equal(s.actions, want);
});

test.run();
