// The seed's walkthrough, done from code: what `unshare --fork --pid --net
// --mount-proc bash` shows, from inside new namespaces created by @ctr/ns.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { run } = require('../packages/ns/dist/index.cjs');

const section = (title) => process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);

const script = [
  'echo "hostname: $(hostname)"',
  'echo "my pid:   $$"',
  'echo; echo "$ ps -o pid,ppid,comm"; ps -o pid,ppid,comm 2>/dev/null || ps',
  'echo; echo "$ ip -brief link"; ip -brief link 2>/dev/null || cat /proc/net/dev',
  'echo; echo "$ ls /sys/class/net (sysfs of the host: it was not remounted)"; ls /sys/class/net',
].join('; ');

section("spawn('sh', ..., { namespaces: ['pid', 'net', 'mnt', 'uts', 'ipc'], mountProc: true, hostname: 'ctr-demo' })");
const r = await run('sh', ['-c', script], {
  namespaces: ['pid', 'net', 'mnt', 'uts', 'ipc'],
  mountProc: true,
  hostname: 'ctr-demo',
});
process.stdout.write(r.stdout);
if (r.stderr) process.stdout.write(r.stderr);
section('outside');
process.stdout.write(`host pid of that shell was ${r.pid}; it exited with code ${r.exitCode}\n`);
process.exit(r.exitCode ?? 1);
