// Network modes set up in a created container's own network namespace,
// between create (init held at the gate, pid known) and start.
import { readlinkSync } from 'node:fs';
import { BridgeNetwork, NetNS, type Attachment } from '@ctr/netns';
import { RuntimeError } from './errors';
import type { NetworkOption } from './options';

/** What was installed for a container, undone by {@link teardownNetwork}. */
export interface NetworkSetup {
  /** The network attached to. */
  net: BridgeNetwork;
  /** The lease (veth pair, address, published ports). */
  lease: Attachment;
}

/**
 * Configure `network` in the network namespace of process `pid` (the
 * container's init). Refuses to touch the host's own namespace.
 */
export async function setupNetwork(pid: number, network: NetworkOption): Promise<NetworkSetup | null> {
  if (network === 'none' || network === 'host') return null;
  // Rootless: the runtime already brought lo up from inside the container's
  // user namespace (this process may not join its network namespace).
  if (network === 'loopback' && process.geteuid?.() !== 0) return null;
  if (network !== 'loopback' && !(network && typeof network === 'object' && 'bridge' in network))
    throw new RuntimeError({ code: 'ERUNTIME_INVALID_OPTION', message: `network: unknown mode ${JSON.stringify(network)}`, path: 'network' });
  let nsPath: string;
  try {
    nsPath = readlinkSync(`/proc/${pid}/ns/net`);
  } catch (e) {
    throw new RuntimeError({ code: 'ERUNTIME_NOT_RUNNING', message: `cannot read /proc/${pid}/ns/net: ${(e as Error).message}`, path: `/proc/${pid}/ns/net` });
  }
  if (nsPath === readlinkSync('/proc/self/ns/net'))
    throw new RuntimeError({
      code: 'ERUNTIME_INVALID_OPTION',
      message: 'network: the container shares the host network namespace (its config has no new network namespace)',
      path: 'network',
    });
  const ns = await NetNS.open({ pid });
  try {
    if (network === 'loopback') {
      await ns.loopbackUp();
      return null;
    }
    const net = typeof network.bridge === 'string' ? await BridgeNetwork.open(network.bridge) : network.bridge;
    const lease = await net.attach(ns, {
      ifname: 'eth0',
      ports: (network.ports ?? []).map((p) => ({ hostPort: p.host, containerPort: p.container, protocol: p.protocol ?? 'tcp' })),
    });
    return { net, lease };
  } finally {
    ns.close();
  }
}

/** Undo {@link setupNetwork}: published ports, veth pair and lease. */
export async function teardownNetwork(setup: NetworkSetup | null): Promise<void> {
  if (setup) await setup.net.detach(setup.lease);
}
