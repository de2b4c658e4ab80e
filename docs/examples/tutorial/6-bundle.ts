import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CTRUN_PATH, Container, configFor } from '@ctr/runtime';
import { isEntry, tag, type Log } from './log.js';
import { rootfs } from './rootfs.js';

// (6) A whole container from an OCI bundle (a config.json and a rootfs):
// namespaces, /proc and /dev, a cgroup with limits, the default seccomp
// profile, dropped capabilities; run once in-process with @ctr/runtime and
// once with the `ctrun` command, runc's command line.
export async function main(log: Log = console.log) {
  const bundle = await mkdtemp(join(tmpdir(), 'ctr-tutorial-'));
  try {
    const config = configFor({
      rootfs,
      args: ['sh', '-c', 'echo "hello from $(hostname), pid $$, uid $(id -u)"'],
      hostname: 'bundled',
      limits: { memory: '64m', pids: 20 },
      seccomp: 'default',
    });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
    const linux = config.linux as { namespaces: { type: string }[]; resources: object; seccomp: { syscalls: object[] } };
    log(`config.json: ${linux.namespaces.map((n) => n.type).join(', ')} namespaces; resources ${JSON.stringify(linux.resources)}; seccomp ${linux.seccomp.syscalls.length} rules`);

    // In-process: create (the init waits at the gate), start, wait, delete.
    const c = await Container.create({ id: `${tag}-bundle`, bundle, stdio: ['ignore', 'pipe', 'inherit'] });
    let inProcess = '';
    c.stdout!.on('data', (chunk: Buffer) => (inProcess += chunk));
    const state = (await c.state()).status;
    const { memory } = await c.stats(); // its cgroup, from @ctr/cgroup
    await c.start();
    const exit = await c.wait();
    await c.delete();
    log(`Container.create -> ${state} (memory limit ${memory.limit}), start, wait -> exit ${exit.exitCode}: ${inProcess.trim()}`);

    // The same bundle with ctrun (create + start + wait + delete).
    const { stdout } = await promisify(execFile)(CTRUN_PATH, ['run', '--bundle', bundle, `${tag}-ctrun`]);
    log(`$ ctrun run --bundle ${bundle} ${tag}-ctrun\n${stdout.trim()}`);
    return { state, limit: memory.limit, exit, inProcess, ctrun: stdout };
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
}

if (isEntry(import.meta.url)) await main();
