import { callAsync } from './errors';
import { fromNativeAttachment, toNativeAttach } from './map';
import { native } from './native';
import type { NetNS } from './netns';
import type { Attachment, AttachOptions, BridgeNetworkOptions } from './options';

interface NetworkConfig { name: string; bridge: string; subnet: string; gateway: string }

/**
 * A bridged network: a Linux bridge holding the gateway address, NAT for
 * traffic leaving the subnet and published ports in its own nftables table
 * (`ip ctr-<name>`), and a persistent address allocator shared by every
 * process (state under `/run/ctr/netns/<name>/`).
 */
export class BridgeNetwork {
  /** Network name. */
  readonly name: string;
  /** Bridge interface. */
  readonly bridge: string;
  /** Subnet (CIDR). */
  readonly subnet: string;
  /** Gateway address on the bridge. */
  readonly gateway: string;

  private constructor(c: NetworkConfig) {
    this.name = c.name;
    this.bridge = c.bridge;
    this.subnet = c.subnet;
    this.gateway = c.gateway;
  }

  /** Create the bridge, its address, forwarding, and the NAT table. */
  static async create(opts: BridgeNetworkOptions): Promise<BridgeNetwork> {
    const c = (await callAsync(() =>
      native.networkCreate({ name: opts.name, subnet: opts.subnet, gateway: opts.gateway, bridge: opts.bridge }),
    )) as NetworkConfig;
    return new BridgeNetwork(c);
  }

  /** Open a network made earlier (by any process). */
  static async open(name: string): Promise<BridgeNetwork> {
    return new BridgeNetwork((await callAsync(() => native.networkOpen(name))) as NetworkConfig);
  }

  /**
   * Where networks keep their state (network, leases, lock): `$CTR_NETNS_STATE_DIR`
   * or `/run/ctr/netns`. A caller that records a lease id before {@link attach}
   * records this with it.
   */
  static get stateRoot(): string {
    return native.networkStateRoot();
  }

  /** Every network. */
  static async list(): Promise<BridgeNetwork[]> {
    const all = (await callAsync(() => native.networkList())) as NetworkConfig[];
    return all.map((c) => new BridgeNetwork(c));
  }

  /**
   * Attach a namespace: a veth pair with one end on the bridge and the other
   * inside `netns` as `ifname` (default `eth0`), an address from the
   * allocator, `lo` up, a default route via the gateway, and the published
   * ports. Resolves with the lease.
   *
   * With `opts.id` the lease gets that id (1-11 of `0-9 a-f`) instead of a
   * random one: record it durably first (with the network's name and
   * {@link stateRoot}), and whatever instant the attaching process dies at,
   * `detach(id)` (or {@link prune} once the process is dead) removes all of
   * the attach: the lease names the veth and the ports before they exist.
   */
  async attach(netns: NetNS, opts: AttachOptions = {}): Promise<Attachment> {
    const raw = await callAsync(() => native.networkAttach(this.name, netns.native, toNativeAttach(opts)));
    return fromNativeAttachment(raw as Parameters<typeof fromNativeAttachment>[0]);
  }

  /** Undo an attach: ports, veth pair (address and route go with it), lease. */
  async detach(attachment: Attachment | string): Promise<void> {
    const id = typeof attachment === 'string' ? attachment : attachment.id;
    await callAsync(() => native.networkDetach(this.name, id));
  }

  /**
   * Release the leases of namespaces that died without a {@link detach}
   * (their host veth went with them) and of attaches whose process died
   * half-way: published ports are removed and the addresses become free.
   * Resolves with what was reaped. {@link attach} does this by itself when
   * the subnet runs out.
   */
  async prune(): Promise<Attachment[]> {
    const all = (await callAsync(() => native.networkPrune(this.name))) as Parameters<typeof fromNativeAttachment>[0][];
    return all.map(fromNativeAttachment);
  }

  /** The current attachments. */
  async attachments(): Promise<Attachment[]> {
    const all = (await callAsync(() => native.networkAttachments(this.name))) as Parameters<typeof fromNativeAttachment>[0][];
    return all.map(fromNativeAttachment);
  }

  /**
   * Let this network and `other` reach each other. Networks are isolated
   * by default: a connection routed into a network's bridge from anywhere
   * else (another network above all) is dropped by a rule in the network's
   * own nft table, unless it answers the network's own connection, goes to
   * a published port, or comes from a connected network. Idempotent.
   */
  async connect(other: BridgeNetwork | string): Promise<void> {
    const name = typeof other === 'string' ? other : other.name;
    await callAsync(() => native.networkConnect(this.name, name, true));
  }

  /** Undo {@link connect}: the two networks are isolated again. Idempotent. */
  async disconnect(other: BridgeNetwork | string): Promise<void> {
    const name = typeof other === 'string' ? other : other.name;
    await callAsync(() => native.networkConnect(this.name, name, false));
  }

  /** Detach everything, then remove the NAT table, the bridge and the state. */
  delete(): Promise<void> {
    return callAsync(() => native.networkDelete(this.name));
  }
}
