// The one place where user-facing option types meet the binding's types.
import type { NativeAttachOptions, NativeLinkChange, NativeRoute } from '../native/index.js';
import type { Attachment, AttachOptions, LinkChange, PublishedPort, RouteSpec } from './options';
import { parsePorts } from './ports';

interface RawAttachment {
  id: string; network: string; address: string; prefix: number; gateway: string;
  ifname: string; hostIfname: string; netnsInode: number; ports: Required<PublishedPort>[];
}

/** @internal */
export function toNativeChange(c: LinkChange): NativeLinkChange {
  return {
    up: c.up,
    mtu: c.mtu,
    mac: c.mac,
    master: c.master === null ? '' : c.master,
    name: c.name,
  };
}

/** @internal */
export function toNativeRoute(r: RouteSpec): NativeRoute {
  return { destination: r.destination, gateway: r.gateway, dev: r.dev, v6: r.v6 };
}

/** @internal */
export function toNativeAttach(o: AttachOptions): NativeAttachOptions {
  return {
    id: o.id,
    ifname: o.ifname,
    address: o.address,
    ports: parsePorts(o.ports),
  };
}

/** @internal */
export function fromNativeAttachment(a: RawAttachment): Attachment {
  return { ...a, ports: a.ports.map((p) => ({ ...p })) };
}

/** @internal */
export function fromNativeRoute(r: { destination: [string, number] | null; gateway: string | null; oif: number | null; v6: boolean }) {
  return { destination: r.destination ? `${r.destination[0]}/${r.destination[1]}` : null, gateway: r.gateway, oif: r.oif, v6: r.v6 };
}
