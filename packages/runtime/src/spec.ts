// Friendly options -> OCI config pieces (sizes, limits, seccomp, network namespaces).
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CgroupError, parseSize as parseSizeShared } from '@ctr/cgroup';
import { Profile } from '@ctr/seccomp';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '@ctr/ns';
import { RuntimeError } from './errors';
import type { ContainerSpec, IdMapping, Limits, RootfsOptions, SeccompOption, Size } from './options';
import { rejectRenamed } from './renamed';
import { RuntimeCodes } from './codes';

function invalid(path: string, message: string): RuntimeError {
  return new RuntimeError({ code: RuntimeCodes.InvalidOption, message, path });
}

/**
 * Bytes of a {@link Size}, read as every ctr package reads sizes (the
 * `@ctr/cgroup` parser, itself the Rust `units.rs` one): a whole number of
 * bytes, or `'512k'`, `'5m'`, `'1.5g'`, `'64MiB'`, `'1GiB'`, `'100b'`
 * (powers of 1024, any case), or `'max'` / `-1` for unlimited (`-1`
 * returned). Anything else throws `ERUNTIME_INVALID_OPTION` naming `path`.
 */
export function parseSize(size: Size, path = 'size'): number {
  try {
    return parseSizeShared(size, path);
  } catch (e) {
    if (e instanceof CgroupError) throw invalid(path, e.message);
    throw e;
  }
}

/** A size that must be a positive number of bytes, or unlimited (`-1`). */
function limitSize(size: Size, path: string): number {
  const n = parseSize(size, path);
  if (n === 0) throw invalid(path, `${path}: ${JSON.stringify(size)} is not a positive size (use 'max' for no limit)`);
  return n;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `linux.resources` for {@link Limits}. */
export function resourcesFor(limits: Limits): Record<string, unknown> | undefined {
  const r: Record<string, unknown> = {};
  if (limits.memory !== undefined) r.memory = { limit: limitSize(limits.memory, 'limits.memory') };
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

/** Where a container's overlay layers live: in its bundle, so they go with it. */
export function overlayDirs(bundle: string): { upper: string; work: string; merged: string } {
  return { upper: join(bundle, 'overlay', 'upper'), work: join(bundle, 'overlay', 'work'), merged: join(bundle, 'rootfs') };
}

/** The rootfs option in its long form, checked. */
export function rootfsOptions(rootfs: ContainerSpec['rootfs']): Required<RootfsOptions> {
  const o: RootfsOptions = typeof rootfs === 'string' ? { path: rootfs } : rootfs;
  if (!o || typeof o !== 'object' || typeof o.path !== 'string' || o.path === '')
    throw invalid('rootfs', 'rootfs: expected a directory path or { path, readonly?, overlay? }');
  for (const k of Object.keys(o)) if (!['path', 'readonly', 'overlay'].includes(k)) throw invalid(`rootfs.${k}`, `rootfs.${k}: unknown option (rootfs takes path, readonly, overlay)`);
  const overlay = o.overlay ?? false;
  if (overlay && o.readonly === true) throw invalid('rootfs.readonly', 'rootfs.readonly: an overlay rootfs is writable (the writes stay in the container); drop readonly or overlay');
  if (overlay && /[,:\\]/.test(resolve(o.path))) throw invalid('rootfs.path', `rootfs.path: ${o.path} has a ',', ':' or '\\', which overlayfs options cannot carry`);
  return { path: resolve(o.path), readonly: overlay ? false : (o.readonly ?? true), overlay };
}

/**
 * The user namespace maps of a spec: those given, or for a caller that is
 * not root its own uid and gid as 0 (a rootless container, as `ctrun spec
 * --rootless`); none for root without maps.
 */
function userMapsFor(opts: ContainerSpec): { uid: IdMapping[]; gid: IdMapping[] } | null {
  const euid = process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;
  if (!opts.uidMap && !opts.gidMap && euid === 0) return null;
  const check = (field: string, m: IdMapping[]): IdMapping[] => {
    for (const x of m) {
      if (![x.containerID, x.hostID, x.size].every((n) => Number.isSafeInteger(n) && n >= 0) || x.size === 0) {
        throw invalid(field, `${field}: ${JSON.stringify(x)} needs whole containerID, hostID and a positive size`);
      }
    }
    return m;
  };
  return {
    uid: check('uidMap', opts.uidMap ?? [{ containerID: 0, hostID: euid, size: 1 }]),
    gid: check('gidMap', opts.gidMap ?? [{ containerID: 0, hostID: egid, size: 1 }]),
  };
}

/**
 * The OCI config for a friendly {@link ContainerSpec}. With
 * `rootfs.overlay`, `bundle` is the bundle directory the config is written
 * to (the overlay's layers are made in it by {@link Container.create}).
 */
export function configFor(opts: ContainerSpec, bundle?: string): Record<string, unknown> {
  rejectRenamed(opts);
  const rootfs = rootfsOptions(opts.rootfs);
  if (rootfs.overlay && bundle === undefined) throw invalid('rootfs.overlay', 'rootfs.overlay: configFor needs the bundle directory the overlay layers go in');
  const layers = rootfs.overlay ? overlayDirs(resolve(bundle!)) : null;
  // A read-only rootfs still gets a writable /tmp, as podman's --read-only does (only where the directory exists: no mountpoint is made in the host directory).
  const tmp = rootfs.readonly && isDir(join(rootfs.path, 'tmp'));
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(opts.env ?? {}) };
  const network = opts.network ?? 'none';
  const maps = userMapsFor(opts);
  const namespaces = ['pid', 'mount', 'ipc', 'uts', ...(network === 'host' ? [] : ['network']), ...(maps ? ['user'] : [])].map((type) => ({ type }));
  const resources = opts.limits ? resourcesFor(opts.limits) : undefined;
  const size = typeof opts.terminal === 'object' && opts.terminal !== null ? opts.terminal : null;
  if (size && !(Number.isInteger(size.cols) && Number.isInteger(size.rows) && size.cols > 0 && size.rows > 0 && size.cols < 65536 && size.rows < 65536)) {
    throw invalid('terminal', 'terminal: cols and rows must be whole numbers from 1 to 65535');
  }
  return {
    ociVersion: '1.2.0',
    root: { path: layers ? layers.merged : rootfs.path, readonly: rootfs.readonly },
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
      ...(layers
        ? [{ destination: '/', type: 'overlay', source: 'overlay', options: [`lowerdir=${rootfs.path}`, `upperdir=${layers.upper}`, `workdir=${layers.work}`] }]
        : []),
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      ...(tmp ? [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] }] : []),
    ],
    linux: {
      namespaces,
      ...(maps ? { uidMappings: maps.uid, gidMappings: maps.gid } : {}),
      ...(resources ? { resources } : {}),
      ...(opts.seccomp !== undefined ? { seccomp: seccompFor(opts.seccomp) } : {}),
      // One list for every path to a config: ctr_common::paths (through @ctr/ns).
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
