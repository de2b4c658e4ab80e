import { run } from '@ctr/ns';
import { isEntry, type Log } from './log.js';

// (1) `unshare --fork --pid --net --mount-proc sh`, from code: a shell in new
// pid, net and mount namespaces, with a /proc of its own.
export async function main(log: Log = console.log) {
  const r = await run('sh', ['-c', 'echo "my pid: $$"; ps -e -o pid,comm; exit 0'], {
    namespaces: ['pid', 'net', 'mnt'],
    mountProc: true, // a fresh /proc in the new mount namespace: ps reads it
  });
  log(r.stdout.trimEnd());
  // ps sees only the shell (PID 1) and itself.
  const processes = r.stdout.split('\n').slice(2).filter(Boolean).map((line) => {
    const [pid, comm] = line.trim().split(/\s+/);
    return { pid: Number(pid), comm };
  });
  return { hostPid: r.pid, processes };
}

if (isEntry(import.meta.url)) await main();
