// Leftover checks limited to what @ctr/ns tests can leave: other
// engineers' suites run concurrently on the same machine and mount their
// own things (network namespaces under /run/netns, cgroup hierarchies).
import { resolve } from 'node:path';
import { leftovers, snapshot, type Snapshot } from '../../../test-support';

const repo = resolve(__dirname, '../../..');

/** Could this mount point have been made by an @ctr/ns test? */
export function ours(mount: string): boolean {
  return (
    mount.startsWith('/tmp/ctrtest-ns-') ||
    mount.startsWith(repo) ||
    ['/proc', '/dev', '/sys', '/'].includes(mount) ||
    mount.startsWith('/proc/') ||
    mount.startsWith('/dev/')
  );
}

function mine(s: Snapshot): Snapshot {
  return { ...s, mounts: s.mounts.filter(ours) };
}

/** {@link leftovers} over this package's own kind of objects. */
export function nsLeftovers(before: Snapshot): string[] {
  return leftovers(mine(before), mine(snapshot()));
}
