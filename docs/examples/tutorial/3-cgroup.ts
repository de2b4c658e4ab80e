import { readdirSync } from 'node:fs';
import { Cgroup } from '@ctr/cgroup';
import { spawn } from '@ctr/ns';
import { isEntry, tag, type Log } from './log.js';

// (3) A memory cgroup: its files, the default limit, a limit of 5000000
// bytes (the kernel keeps whole pages: 4997120), and a process that
// allocates past it, killed by the OOM killer and reported.
export async function main(log: Log = console.log) {
  const cg = await Cgroup.create(`/${tag}-mem`);
  try {
    // The limit file is memory.limit_in_bytes on cgroup v1, memory.max on v2.
    const limitFile = cg.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
    const dir = cg.dirs.find((d) => readdirSync(d).includes(limitFile))!;
    const files = readdirSync(dir).filter((f) => f.startsWith('memory.'));
    log(`${dir}: ${files.length} memory files (${files.slice(0, 6).join(', ')}, ...)`);

    const defaultLimit = (await cg.readFile(limitFile)).trim();
    log(`default ${limitFile}: ${defaultLimit}`);
    await cg.writeFile(limitFile, 5000000);
    const limit = (await cg.readFile(limitFile)).trim();
    log(`wrote 5000000, read back ${limit}`);

    // A 50 MB allocation, moved into the cgroup while it waits before exec.
    const oomEvent = new Promise((resolve) => cg.once('oom_kill', resolve));
    const child = spawn('busybox', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=50M', 'count=1'], { stdio: 'ignore', hold: true });
    await child.spawned;
    await cg.addProcess(child.pid);
    await child.release();
    const { signal } = await child.exited;
    const event = await Promise.race([oomEvent, new Promise((r) => setTimeout(() => r(null), 10_000))]);
    const { memory } = await cg.stats();
    log(`dd (50 MB buffer) ended with ${signal}; oom_kill event: ${JSON.stringify(event)}; stats oomKill: ${memory.oomKill}`);
    return { files, limitFile, defaultLimit, limit: Number(limit), signal, event, oomKill: memory.oomKill, path: dir };
  } finally {
    await cg.delete({ kill: true });
  }
}

if (isEntry(import.meta.url)) await main();
