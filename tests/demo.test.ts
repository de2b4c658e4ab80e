import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { hostLeftovers, isRoot, skip } from '../test-support';

// `npm run demo` is the README's first command: it must keep working, and
// leave nothing behind (its cgroup, bridge, namespaces).
test('the demo walkthrough runs every step and leaves nothing behind', () => {
  if (!isRoot) return skip('demo', 'needs root');
  const r = spawnSync(process.execPath, ['scripts/demo.mjs'], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /my pid:\s+1\n/);
  assert.match(r.stdout, /limit read back: \d+ bytes; dd ended with signal SIGKILL; oom_kill count 1/);
  assert.match(r.stdout, /unshare got EPERM/);
  assert.match(r.stdout, /received: "hello from b"/);
  // The shared leftover check: cgroups in every hierarchy, mounts, netns, links, nft tables, processes.
  assert.equal(hostLeftovers('ctrdemo'), []);
});

test.run();
