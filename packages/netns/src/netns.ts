import { callAsync } from './errors';
import { fromNativeRoute, toNativeChange, toNativeRoute } from './map';
import { native, type NativeNetns } from './native';
import type { InterfaceAddress, Link, LinkChange, LinkOptions, RouteInfo, RouteSpec } from './options';

/** How to find an existing namespace for {@link NetNS.open}. */
export type NetNSRef = string | number | { name: string } | { path: string } | { pid: number };

/**
 * A network namespace, held open by an fd. Named ones live under
 * `/run/netns/NAME` exactly like iproute2's (`ip netns list`, `ip netns exec`
 * see them); anonymous ones live as long as this handle (or a process in
 * them) and have a {@link path} of their own while the handle is open, to
 * hand to other tools (`nsenter --net=PATH`, CNI plugins, an OCI bundle's
 * `linux.namespaces[].path`). Every operation runs off the main thread, on a
 * thread that joined the namespace.
 */
export class NetNS {
  /** @internal */
  readonly native: NativeNetns;

  /** @internal */
  constructor(n: NativeNetns) {
    this.native = n;
  }

  /** Create a named namespace `/run/netns/NAME` (like `ip netns add`), or an anonymous one when `name` is omitted. */
  static async create(name?: string): Promise<NetNS> {
    const n = await callAsync(() => (name === undefined ? native.createAnonymous() : native.createNamed(name)));
    return new NetNS(n);
  }

  /**
   * Open an existing namespace: a name under /run/netns (string), a path
   * (string containing `/`), a pid (number), or `{ name }`, `{ path }`, `{ pid }`.
   */
  static async open(ref: NetNSRef): Promise<NetNS> {
    const n = await callAsync(() => {
      if (typeof ref === 'number') return native.openPid(ref);
      if (typeof ref === 'string') return ref.includes('/') ? native.openPath(ref) : native.openNamed(ref);
      if ('pid' in ref) return native.openPid(ref.pid);
      if ('path' in ref) return native.openPath(ref.path);
      return native.openNamed(ref.name);
    });
    return new NetNS(n);
  }

  /** The namespace of this process: the host network ("join the host network" mode). */
  static async host(): Promise<NetNS> {
    return new NetNS(await callAsync(() => native.openCurrent()));
  }

  /** Names of the namespaces under /run/netns (what `ip netns list` shows). */
  static list(): Promise<string[]> {
    return callAsync(() => native.listNamed());
  }

  /** Remove the named namespace `name` (unmount and unlink, like `ip netns delete`). */
  static remove(name: string): Promise<void> {
    return callAsync(() => native.deleteNamed(name));
  }

  /** Name under /run/netns, for named namespaces. */
  get name(): string | undefined {
    return this.native.name ?? undefined;
  }
  /**
   * A path that names the namespace: the file it was opened from, `/run/netns/NAME`
   * for a named one, and for an anonymous one a bind mount under
   * `/run/ctr/netns/.anon/` (`$CTR_NETNS_STATE_DIR/.anon/`) that exists while this
   * handle is open and is removed by {@link close} (undefined after). The file is
   * named after the owning process before it is mounted, so one left by a process
   * killed before `close()` is removed by the next anonymous `create()`. Where that
   * directory cannot be written or mounted on (unprivileged, in a user namespace),
   * an anonymous namespace has no path.
   */
  get path(): string | undefined {
    return this.native.path ?? undefined;
  }
  /** Inode that identifies the namespace (as `/proc/PID/ns/net` shows). */
  get inode(): number {
    return this.native.inode;
  }
  /** The open fd (-1 once closed); pass it to setns(2) users such as `@ctr/ns`. */
  get fd(): number {
    return this.native.fd;
  }

  /** Every link in the namespace. */
  links(): Promise<Link[]> {
    return callAsync(() => this.native.links()) as Promise<Link[]>;
  }
  /** The link named `name`, or null. */
  link(name: string): Promise<Link | null> {
    return callAsync(() => this.native.link(name)) as Promise<Link | null>;
  }
  /** Create a veth pair `name` <-> `peer`; with `peerNetns` the peer is created directly in that namespace. */
  createVeth(name: string, peer: string, opts: LinkOptions & { peerNetns?: NetNS } = {}): Promise<void> {
    return callAsync(() => this.native.createLink({ name, kind: 'veth', peer, mtu: opts.mtu, mac: opts.mac }, opts.peerNetns?.native));
  }
  /** Create a bridge. */
  createBridge(name: string, opts: LinkOptions = {}): Promise<void> {
    return callAsync(() => this.native.createLink({ name, kind: 'bridge', mtu: opts.mtu, mac: opts.mac }));
  }
  /** Create a dummy interface (needs the kernel's dummy driver). */
  createDummy(name: string, opts: LinkOptions = {}): Promise<void> {
    return callAsync(() => this.native.createLink({ name, kind: 'dummy', mtu: opts.mtu, mac: opts.mac }));
  }
  /** Create a macvlan (bridge mode) on top of `parent`. */
  createMacvlan(name: string, parent: string, opts: LinkOptions = {}): Promise<void> {
    return callAsync(() => this.native.createLink({ name, kind: 'macvlan', parent, mtu: opts.mtu, mac: opts.mac }));
  }
  /** Change a link: up/down, mtu, mac, master, name. */
  setLink(name: string, change: LinkChange): Promise<void> {
    return callAsync(() => this.native.setLink(name, toNativeChange(change)));
  }
  /** Set a link up. */
  up(name: string): Promise<void> {
    return this.setLink(name, { up: true });
  }
  /** Set a link down. */
  down(name: string): Promise<void> {
    return this.setLink(name, { up: false });
  }
  /** Move a link into another namespace, given as a {@link NetNS} or a pid. */
  moveLink(name: string, to: NetNS | number): Promise<void> {
    return callAsync(() =>
      typeof to === 'number' ? this.native.setLink(name, { netnsPid: to }) : this.native.setLink(name, {}, to.native),
    );
  }
  /** Delete a link (a veth takes its peer with it). */
  deleteLink(name: string): Promise<void> {
    return callAsync(() => this.native.deleteLink(name));
  }
  /** Addresses of one link (by name) or of all. */
  addresses(link?: string): Promise<InterfaceAddress[]> {
    return callAsync(() => this.native.addresses(link)) as Promise<InterfaceAddress[]>;
  }
  /** Add an address, `10.0.0.2/24` or `fd00::2/64`. */
  addAddress(link: string, cidr: string): Promise<void> {
    return callAsync(() => this.native.addAddress(link, cidr));
  }
  /** Delete an address. */
  deleteAddress(link: string, cidr: string): Promise<void> {
    return callAsync(() => this.native.deleteAddress(link, cidr));
  }
  /** Routes of the main table. */
  async routes(): Promise<RouteInfo[]> {
    const raw = (await callAsync(() => this.native.routes())) as Parameters<typeof fromNativeRoute>[0][];
    return raw.map(fromNativeRoute);
  }
  /** Add a route; `{ gateway }` alone is the default route. */
  addRoute(route: RouteSpec): Promise<void> {
    return callAsync(() => this.native.addRoute(toNativeRoute(route)));
  }
  /** Delete a route. */
  deleteRoute(route: RouteSpec): Promise<void> {
    return callAsync(() => this.native.deleteRoute(toNativeRoute(route)));
  }
  /** Bring the loopback interface up. */
  loopbackUp(): Promise<void> {
    return callAsync(() => this.native.loopbackUp());
  }
  /**
   * Close the fd; an anonymous namespace's {@link path} is removed. An anonymous
   * namespace with nothing else in it (no process, fd or other mount) goes away.
   */
  close(): void {
    this.native.close();
  }
  /** Close, and for a named namespace also remove /run/netns/NAME. */
  async delete(): Promise<void> {
    const name = this.name;
    this.close();
    if (name !== undefined) await NetNS.remove(name);
  }
}

/** Loopback-only networking: a new anonymous namespace whose `lo` is up and nothing else. */
export async function loopbackOnly(): Promise<NetNS> {
  const ns = await NetNS.create();
  try {
    await ns.loopbackUp();
  } catch (e) {
    ns.close();
    throw e;
  }
  return ns;
}
