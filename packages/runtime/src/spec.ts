// Friendly options -> OCI config pieces (sizes, limits, seccomp, network namespaces).
import { resolve } from 'node:path';
import { parseSize as parseSizeText } from '@ctr/cgroup';
import { Profile } from '@ctr/seccomp';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '@ctr/ns';
import { RuntimeError } from './errors';
import type { ContainerSpec, Limits, SeccompOption, Size } from './options';

function invalid(path: string, message: string): RuntimeError {
  return new RuntimeError({ code: 'ERUNTIME_INVALID_OPTION', message, path });
}

/**
 * Bytes of a {@link Size}: a number of bytes or `'5m'`, `'512K'`, `'1.5g'`, `'64MiB'`, `'100b'` (powers of 1024).
 * The text is read by the one size parser, in Rust (`ctr_cgroup::units`, through `@ctr/cgroup`'s `parseSize`);
 * this maps only the shape: a limit here must be a positive number of bytes.
 */
export function parseSize(size: Size, path = 'size'): number {
  if (typeof size === 'number') {
    if (!Number.isSafeInteger(size) || size <= 0) throw invalid(path, `${path}: ${size} is not a positive whole number of bytes`);
    return size;
  }
  let bytes: number;
  try {
    bytes = parseSizeText(String(size));
  } catch {
    throw invalid(path, `${path}: cannot read ${JSON.stringify(size)} as a size (e.g. '5m', '512k', '1g')`);
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw invalid(path, `${path}: ${JSON.stringify(size)} is not a positive size`);
  return bytes;
}

/** `linux.resources` for {@link Limits}. */
export function resourcesFor(limits: Limits): Record<string, unknown> | undefined {
  const r: Record<string, unknown> = {};
  if (limits.memory !== undefined) r.memory = { limit: parseSize(limits.memory, 'limits.memory') };
  if (limits.pids !== undefined) {
    if (!Number.isSafeInteger(limits.pids) || limits.pids <= 0) throw invalid('limits.pids', `limits.pids: ${limits.pids} is not a positive whole number`);
    r.pids = { limit: limits.pids };
  }
  if (limits.cpu !== undefined) {
    if (!(typeof limits.cpu === 'number' && limits.cpu > 0 && Number.isFinite(limits.cpu)))
      throw invalid('limits.cpu', `limits.cpu: ${limits.cpu} is not a positive number of CPUs`);
    const period = 100_000;
    r.cpu = { quota: Math.max(1000, Math.round(limits.cpu * period)), period };
  }
  return Object.keys(r).length ? r : undefined;
}

/** The OCI `linux.seccomp` object for a {@link SeccompOption}. */
export function seccompFor(s: SeccompOption): Record<string, unknown> {
  if (s === 'default') return Profile.default().json as unknown as Record<string, unknown>;
  if (s instanceof Profile) return s.json as unknown as Record<string, unknown>;
  if (s && typeof s === 'object' && typeof (s as { defaultAction?: unknown }).defaultAction === 'string') return s;
  throw invalid('seccomp', "seccomp: expected 'default', a @ctr/seccomp Profile or an OCI linux.seccomp object");
}

/** The OCI config for a friendly {@link ContainerSpec}. */
export function configFor(opts: ContainerSpec): Record<string, unknown> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(opts.env ?? {}) };
  const network = opts.network ?? 'none';
  const namespaces = ['pid', 'mount', 'ipc', 'uts', ...(network === 'host' ? [] : ['network'])].map((type) => ({ type }));
  const resources = opts.limits ? resourcesFor(opts.limits) : undefined;
  const size = typeof opts.terminal === 'object' && opts.terminal !== null ? opts.terminal : null;
  if (size && !(Number.isInteger(size.cols) && Number.isInteger(size.rows) && size.cols > 0 && size.rows > 0 && size.cols < 65536 && size.rows < 65536)) {
    throw invalid('terminal', 'terminal: cols and rows must be whole numbers from 1 to 65535');
  }
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
      ...(opts.terminal ? { terminal: true } : {}),
      ...(size ? { consoleSize: { width: size.cols, height: size.rows } } : {}),
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    ],
    linux: {
      namespaces,
      ...(resources ? { resources } : {}),
      ...(opts.seccomp !== undefined ? { seccomp: seccompFor(opts.seccomp) } : {}),
      // One list for every path to a config: ctr_common::paths (through @ctr/ns).
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
