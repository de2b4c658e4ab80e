// Helpers shared by every test suite (not published): stated skips, the
// layout the tests run on, and leftover checks.
import { readdirSync, readFileSync, readlinkSync, existsSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * Mark the running test as skipped, with the reason. uvu has no run-time
 * skip, so the line is printed and `scripts/test.mjs` counts it: the test
 * shows as skipped in the summary, never silently as passed.
 */
export function skip(name: string, reason: string): void {
  process.stdout.write(`\nSKIP: ${name}: ${reason}\n`);
}

/** True when running as root (most integration tests need it). */
export const isRoot = process.getuid?.() === 0;

/** The cgroup layout of this host: what `@ctr/cgroup` detect() would say. */
export function cgroupLayout(): 'legacy' | 'hybrid' | 'unified' {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const v1 = / - cgroup /.test(mounts);
  const v2 = / - cgroup2 /.test(mounts);
  return v1 && v2 ? 'hybrid' : v2 ? 'unified' : 'legacy';
}

/**
 * Pids of this process's children (from /proc/PID/stat), zombies included.
 * The test runner's own helper is left out: tsx starts esbuild as a
 * long-lived child service whenever it first needs it, which may be after a
 * test took its snapshot; it is not something a test made.
 */
export function childPids(parent = process.pid): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[1]) === parent && !(comm === 'esbuild' && fields[0] !== 'Z')) out.push(Number(d));
    } catch {
      // raced with an exit
    }
  }
  return out;
}

/** The mount points this process sees. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]);
}

/** Open fds of this process. */
export function openFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number);
}

/**
 * The open fds of the kinds ctr's libraries hold for a caller: pidfds,
 * namespace fds and seccomp listeners (e.g. `anon_inode:[pidfd]`,
 * `net:[4026531840]`), as their link targets.
 */
export function trackedFds(): string[] {
  const out: string[] = [];
  for (const fd of openFds()) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^anon_inode:(\[pidfd\]|seccomp notify)$/.test(target) || /^(net|mnt|pid|uts|ipc|user|cgroup|time):\[/.test(target)) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out.sort();
}

/** What a test may leave behind, to compare before and after. */
export interface Snapshot {
  mounts: string[];
  children: number[];
  fds: number[];
  /** {@link trackedFds} at the time. */
  tracked: string[];
}

/** Take a snapshot of mounts, child processes and fds. */
export function snapshot(): Snapshot {
  return { mounts: mountPoints(), children: childPids(), fds: openFds(), tracked: trackedFds() };
}

/**
 * Describe what is in `after` but not in `before` (empty when clean).
 * The fds our libraries hold (pidfds, namespace fds, seccomp listeners) are
 * compared exactly. Other fds only loosely: Node, libuv, tokio and the tsx
 * compiler service open some of their own lazily (epoll, eventfds, the
 * signal pipe, esbuild's pipes), so only growth beyond `fdSlack` counts —
 * enough to catch a per-spawn leak, not a runtime warming up.
 */
export function leftovers(before: Snapshot, after: Snapshot = snapshot(), fdSlack = 24): string[] {
  const problems: string[] = [];
  const newMounts = after.mounts.filter((m) => !before.mounts.includes(m));
  if (newMounts.length) problems.push(`mounts left: ${newMounts.join(', ')}`);
  const newChildren = after.children.filter((p) => !before.children.includes(p));
  if (newChildren.length) problems.push(`child processes left: ${newChildren.join(', ')}`);
  if (after.fds.length > before.fds.length + fdSlack) problems.push(`fds grew from ${before.fds.length} to ${after.fds.length}`);
  const extra = [...after.tracked];
  for (const t of before.tracked ?? []) {
    const i = extra.indexOf(t);
    if (i >= 0) extra.splice(i, 1);
  }
  if (extra.length) problems.push(`fds left: ${extra.join(', ')}`);
  return problems;
}

/**
 * Wait until `check` returns true, polling every 10 ms, up to `ms`. The
 * default is generous (10 s) on purpose: it returns as soon as the check
 * holds, and the TCG guests of test-vms run kernel work 10-50x slower.
 */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

/**
 * Whether process `pid` has exited: gone from /proc, or a zombie waiting for its parent.
 * One read, no exists-then-read: the process can be reaped between two syscalls.
 */
export function processExited(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // The state follows the last ')' (the command name may itself contain ')').
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

/** Whether a path exists (a thin alias for readability in tests). */
export const exists = existsSync;

/** The guests test-vms boots: `v2`, `v1`, `hybrid` and `systemd` (pure v2 under systemd; see test-vms/README.md). */
export type VmProfile = 'v2' | 'v1' | 'hybrid' | 'systemd';

/**
 * The test-vms profile this process runs under (test-vms/vm sets
 * `CTR_VM_PROFILE` in the guest), or null on a plain host. Use it only to
 * label output or expectations; decide skips from the real layout
 * (`cgroupLayout()`, `cgroupMounts()`), not from the profile.
 */
export function vmProfile(): VmProfile | null {
  const p = process.env.CTR_VM_PROFILE;
  return p === 'v2' || p === 'v1' || p === 'hybrid' || p === 'systemd' ? p : null;
}

/** Where the cgroup hierarchies of this host are mounted. */
export interface CgroupMounts {
  /** Mount point of the cgroup2 hierarchy, or null when there is none. */
  v2: string | null;
  /** Controllers enabled in the cgroup2 root (`cgroup.controllers`). */
  v2Controllers: string[];
  /** v1 controller (or `name=<name>` for named hierarchies) to its mount point. */
  v1: Record<string, string>;
}

/** Read the cgroup mounts of this process from /proc/self/mountinfo. */
export function cgroupMounts(): CgroupMounts {
  const out: CgroupMounts = { v2: null, v2Controllers: [], v1: {} };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , superOpts = ''] = post.split(' ');
    const mountPoint = pre.split(' ')[4];
    if (fstype === 'cgroup2' && out.v2 === null) {
      out.v2 = mountPoint;
      try {
        out.v2Controllers = readFileSync(`${mountPoint}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        // unreadable: leave empty
      }
    } else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'none', 'xattr', 'nsdelegate'].includes(opt) || opt.startsWith('release_agent') || opt.startsWith('clone_children')) continue;
        if (!(opt in out.v1)) out.v1[opt] = mountPoint;
      }
    }
  }
  return out;
}

/**
 * Where a cgroup controller can be used on this host: `{ version: 2, path }`
 * when it is enabled in the cgroup2 root, `{ version: 1, path }` when it has
 * a v1 hierarchy, or null when neither (skip with that reason).
 */
export function cgroupController(name: string): { version: 1 | 2; path: string } | null {
  const m = cgroupMounts();
  if (m.v1[name]) return { version: 1, path: m.v1[name] };
  if (m.v2 && m.v2Controllers.includes(name)) return { version: 2, path: m.v2 };
  return null;
}

/** Where {@link hostLeftovers} looks, beyond the name prefix. */
export interface HostLeftoverOptions {
  /** State roots (`--root`) whose entries must all be gone. */
  stateRoots?: string[];
  /** Network link names start with this (links are at most 15 bytes: give a short one). Default: `prefix` cut to 15 bytes. */
  linkPrefix?: string;
  /** Skip the `nft list tables` check (it runs a process). */
  skipNft?: boolean;
  /** Network links named otherwise that must be gone too (e.g. the host ends of veths a CNI plugin named). */
  links?: string[];
  /** Strings no line of `nft list ruleset` may contain (a bridge name, a subnet): rules of iptables-nft included. */
  rules?: string[];
  /**
   * `@ctr/netns` bridge networks (by name) that must hold no lease (pending
   * ones included), no link on their bridge (a veth of an attachment) and no
   * published port in their nft table. Check before deleting the network:
   * its delete detaches everything.
   */
  networks?: string[];
  /** State root of those networks (default `$CTR_NETNS_STATE_DIR` or `/run/ctr/netns`). */
  networkStateRoot?: string;
}

/** What of a bridge network's attachments is left: leases, bridge ports, published ports. */
export function networkLeftovers(name: string, stateRoot = process.env.CTR_NETNS_STATE_DIR ?? '/run/ctr/netns'): string[] {
  const problems: string[] = [];
  const dir = `${stateRoot}/${name}`;
  try {
    const leases = (JSON.parse(readFileSync(`${dir}/leases.json`, 'utf8')) as { leases?: { id: string }[] }).leases ?? [];
    if (leases.length) problems.push(`leases left in network ${name}: ${leases.map((l) => l.id).join(', ')}`);
  } catch {
    // no lease file: no lease
  }
  let bridge = name;
  try {
    bridge = (JSON.parse(readFileSync(`${dir}/network.json`, 'utf8')) as { bridge: string }).bridge;
  } catch {
    // network gone: its bridge is checked by name
  }
  try {
    const ports = readdirSync(`/sys/class/net/${bridge}/brif`);
    if (ports.length) problems.push(`links left on bridge ${bridge}: ${ports.join(', ')}`);
  } catch {
    // no bridge: no port on it
  }
  const r = spawnSync('nft', ['list', 'table', 'ip', `ctr-${name}`], { encoding: 'utf8' });
  const elements = r.status === 0 ? (r.stdout.match(/map (?:tcp|udp)_ports \{[^}]*elements = \{[^}]*\}/g) ?? []) : [];
  if (elements.length) problems.push(`published ports left in ctr-${name}: ${elements.join(' ').replace(/\s+/g, ' ')}`);
  return problems;
}

/** Every cgroup directory (all hierarchies, any depth) whose name contains `needle`. */
export function cgroupDirsNamed(needle: string): string[] {
  const out: string[] = [];
  const m = cgroupMounts();
  const roots = new Set<string>([...Object.values(m.v1), ...(m.v2 ? [m.v2] : [])]);
  const walk = (dir: string, depth: number): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = `${dir}/${e.name}`;
      if (e.name.includes(needle)) out.push(p);
      else if (depth < 6) walk(p, depth + 1);
    }
  };
  for (const r of roots) walk(r, 0);
  return out.sort();
}

/**
 * The one leftover check for kernel objects and state that tests name with
 * a prefix (run it after a suite; other helpers' objects do not match):
 * cgroups in every hierarchy, mounts, named network namespaces
 * (/run/netns), network links (veths, bridges), nft tables, processes
 * (by command line or cgroup), the entries of the given state roots, and the
 * leases, bridge ports (veths) and published ports of the given networks.
 * Returns one line per kind of leftover, empty when clean.
 */
export function hostLeftovers(prefix: string, opts: HostLeftoverOptions = {}): string[] {
  const problems: string[] = [];
  const cgroups = cgroupDirsNamed(prefix);
  if (cgroups.length) problems.push(`cgroups left: ${cgroups.join(', ')}`);
  const mounts = mountPoints().filter((m) => m.includes(prefix));
  if (mounts.length) problems.push(`mounts left: ${mounts.join(', ')}`);
  try {
    const ns = readdirSync('/run/netns').filter((n) => n.includes(prefix));
    if (ns.length) problems.push(`netns left: ${ns.join(', ')}`);
  } catch {
    // no /run/netns: none
  }
  const linkPrefix = opts.linkPrefix ?? prefix.slice(0, 15);
  const links = readdirSync('/sys/class/net').filter((l) => l.startsWith(linkPrefix));
  if (links.length) problems.push(`links left: ${links.join(', ')}`);
  const named = (opts.links ?? []).filter((l) => existsSync(`/sys/class/net/${l}`));
  if (named.length) problems.push(`links left: ${named.join(', ')}`);
  if (opts.rules?.length) {
    const r = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
    const lines = r.status === 0 ? r.stdout.split('\n').filter((l) => opts.rules!.some((s) => l.includes(s))) : [];
    if (lines.length) problems.push(`nft rules left: ${lines.map((l) => l.trim()).join('; ')}`);
  }
  if (!opts.skipNft) {
    const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    const tables = r.status === 0 ? r.stdout.split('\n').filter((l) => l.includes(prefix)) : [];
    if (tables.length) problems.push(`nft tables left: ${tables.join(', ')}`);
  }
  const procs: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      // A zombie has ended: it waits only for its parent (pid 1 for a
      // container init whose runtime exited) to reap it, and still shows
      // the cgroup it died in. A zombie child of the test itself is
      // caught by leftovers() (childPids).
      if (processExited(Number(d))) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cg = readFileSync(`/proc/${d}/cgroup`, 'utf8');
      if (cg.includes(prefix) || cmd.includes(prefix)) procs.push(`${d} (${cmd.trim().slice(0, 80)})`);
    } catch {
      // exited meanwhile
    }
  }
  if (procs.length) problems.push(`processes left: ${procs.join(', ')}`);
  for (const n of opts.networks ?? []) problems.push(...networkLeftovers(n, opts.networkStateRoot));
  for (const root of opts.stateRoots ?? []) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root);
    } catch {
      // no root: nothing in it
    }
    if (entries.length) problems.push(`state left in ${root}: ${entries.join(', ')}`);
  }
  return problems;
}

/** The cgroup2 root's `cgroup.subtree_control` (null without cgroup2): tests compare it before and after. */
export function rootSubtreeControl(): string | null {
  const v2 = cgroupMounts().v2;
  if (!v2) return null;
  try {
    return readFileSync(`${v2}/cgroup.subtree_control`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** A small seeded PRNG (mulberry32): reproducible random runs, `next()` in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Start a daemon a test file runs for itself (a private containerd), its
 * stdout and stderr appended to `out.log` for assertions and messages.
 */
export function spawnDaemon(cmd: string, args: string[], out: { log: string }): ChildProcess {
  const d = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  d.stdout!.on('data', (b) => (out.log += b));
  d.stderr!.on('data', (b) => (out.log += b));
  return d;
}

/** Stop a daemon of {@link spawnDaemon}: SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
export async function stopDaemon(daemon: ChildProcess | null, graceMs = 10_000): Promise<void> {
  if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = new Promise<void>((r) => daemon.once('exit', () => r()));
  daemon.kill('SIGTERM');
  const t = setTimeout(() => daemon.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}
