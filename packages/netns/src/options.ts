/** A network interface as the kernel reports it. */
export interface Link {
  /** Interface index. */
  index: number;
  /** Interface name. */
  name: string;
  /** Kind (`veth`, `bridge`, `dummy`, `macvlan`, ...); null for loopback and physical devices. */
  kind: string | null;
  /** Administratively up. */
  up: boolean;
  /** MTU in bytes. */
  mtu: number;
  /** MAC address, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Index of the master (bridge) link, or null. */
  master: number | null;
}

/** An address on an interface. */
export interface InterfaceAddress {
  /** Interface index. */
  index: number;
  /** The address (IPv4 or IPv6). */
  address: string;
  /** Prefix length. */
  prefix: number;
}

/** A route of the main table. */
export interface RouteInfo {
  /** Destination CIDR; null for a default route. */
  destination: string | null;
  /** Next hop, if any. */
  gateway: string | null;
  /** Output interface index, if any. */
  oif: number | null;
  /** IPv6 route. */
  v6: boolean;
}

/** A route to add or delete. */
export interface RouteSpec {
  /** Destination CIDR; omit for the default route. */
  destination?: string;
  /** Next hop. */
  gateway?: string;
  /** Output interface name. */
  dev?: string;
  /** An IPv6 default route (when neither destination nor gateway says so). */
  v6?: boolean;
}

/** Options common to every link created. */
export interface LinkOptions {
  /** MTU. */
  mtu?: number;
  /** MAC address `aa:bb:cc:dd:ee:ff`. */
  mac?: string;
}

/** Changes to a link; omitted fields are left alone. */
export interface LinkChange {
  /** Set up (true) or down (false). */
  up?: boolean;
  /** New MTU. */
  mtu?: number;
  /** New MAC address. */
  mac?: string;
  /** Enslave to this link (a bridge); null releases it. */
  master?: string | null;
  /** New name. */
  name?: string;
}

/** Options of `BridgeNetwork.create`. */
export interface BridgeNetworkOptions {
  /** Network name, 1-15 of `a-z A-Z 0-9 - _ .`; also the bridge name unless `bridge` is given. */
  name: string;
  /** IPv4 subnet, e.g. `10.231.1.0/24`. */
  subnet: string;
  /** Gateway address on the bridge (default: first host of the subnet). */
  gateway?: string;
  /** Bridge interface name (default: `name`). */
  bridge?: string;
}

/**
 * A published port: host port to a port in the namespace. The spelling of
 * CNI's `portMappings` and Kubernetes' `ContainerPort` (every ctr package
 * uses it; `host`/`container` are refused with `ENETNS_INVALID_PORT`). There
 * is no `hostIp`: a port is published on every local address.
 */
export interface PublishedPort {
  /** Port on the host (all local addresses, 127.0.0.1 included). */
  hostPort: number;
  /** Port inside the namespace. */
  containerPort: number;
  /** `tcp` (default) or `udp`. */
  protocol?: 'tcp' | 'udp';
}

/** Options of `BridgeNetwork.attach`. */
export interface AttachOptions {
  /**
   * Lease id (1-11 of `0-9 a-f`; default random), for callers that record it
   * before attaching so a crash mid-attach leaves nothing they cannot find.
   */
  id?: string;
  /** Interface name inside the namespace (default `eth0`). */
  ifname?: string;
  /** A specific address instead of the next free one. */
  address?: string;
  /** Ports to publish. */
  ports?: PublishedPort[];
}

/** An attachment of a namespace to a network: its lease. */
export interface Attachment {
  /** Lease id (pass to `detach`). */
  id: string;
  /** Network name. */
  network: string;
  /** Address of the namespace. */
  address: string;
  /** Prefix length of the subnet. */
  prefix: number;
  /** Default gateway. */
  gateway: string;
  /** Interface inside the namespace. */
  ifname: string;
  /** Host end of the veth pair, on the bridge. */
  hostIfname: string;
  /** Inode of the namespace attached. */
  netnsInode: number;
  /** Published ports. */
  ports: Required<PublishedPort>[];
}
