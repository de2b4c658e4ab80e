import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Container } from './container';
import type { RunOptions, RunResult } from './options';

let seq = 0;

/** The OCI config {@link run} uses for `opts` (exported for inspection and tests). */
export function configFor(opts: RunOptions): Record<string, unknown> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(opts.env ?? {}) };
  const namespaces = ['pid', 'mount', 'ipc', 'uts', ...(opts.network === 'host' ? [] : ['network'])].map((type) => ({ type }));
  return {
    ociVersion: '1.2.0',
    root: { path: resolve(opts.rootfs), readonly: opts.readonly ?? false },
    hostname: opts.hostname ?? 'ctr',
    process: {
      cwd: opts.cwd ?? '/',
      args: opts.args,
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      user: { uid: opts.user?.uid ?? 0, gid: opts.user?.gid ?? 0, ...(opts.user?.additionalGids ? { additionalGids: opts.user.additionalGids } : {}) },
      noNewPrivileges: true,
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    ],
    linux: {
      namespaces,
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * Run a command in a new container and collect its output, in-process:
 * create + start + wait + delete over the same lifecycle as `ctrun run`.
 */
export async function run(opts: RunOptions): Promise<RunResult> {
  const bundle = mkdtempSync(join(tmpdir(), 'ctr-run-'));
  try {
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(configFor(opts)));
    const id = opts.id ?? `ctr-run-${process.pid}-${Date.now().toString(36)}-${seq++}`;
    const c = await Container.create({ id, bundle, root: opts.root, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    try {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      c.stdout?.on('data', (d: Buffer) => out.push(d));
      c.stderr?.on('data', (d: Buffer) => err.push(d));
      const closed = Promise.all([c.stdout, c.stderr].map((s) => new Promise<void>((r) => (s ? s.on('close', () => r()) : r()))));
      await c.start();
      c.stdin?.end(opts.input ?? '');
      const exit = await c.wait();
      await closed;
      return { ...exit, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    } finally {
      await c.delete({ force: true }).catch(() => undefined);
    }
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
}
