// Network modes set up in a created container's own network namespace,
// between create (init held at the gate, pid known) and start.
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { BridgeNetwork, NetNS, NetnsCodes, NetnsError, parsePorts, type Attachment } from '@ctr/netns';
import { call, RuntimeError } from './errors';
import { native } from './native';
import type { NetworkOption } from './options';
import { RuntimeCodes } from './codes';

/**
 * Check a `network` option before anything is made: the mode, and for a
 * bridge its published ports (`@ctr/netns`'s check), as the runtime's codes:
 * `ERUNTIME_RENAMED_OPTION` for an old spelling (`network.ports[0].host`),
 * `ERUNTIME_INVALID_OPTION` for any other wrong shape, `path` naming the field.
 */
export function checkNetworkOption(network: NetworkOption | undefined): void {
  if (network === undefined || network === 'none' || network === 'host' || network === 'loopback') return;
  if (!(network && typeof network === 'object' && 'bridge' in network))
    throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: `network: unknown mode ${JSON.stringify(network)}`, path: 'network' });
  try {
    parsePorts(network.ports, 'network.ports');
  } catch (e) {
    if (!(e instanceof NetnsError)) throw e;
    const code = e.code === NetnsCodes.RenamedOption ? RuntimeCodes.RenamedOption : RuntimeCodes.InvalidOption;
    throw new RuntimeError({ code, message: e.message, path: e.path });
  }
}

/** What was installed for a container (the container's delete undoes it: the lease is in its record). */
export interface NetworkSetup {
  /** The network attached to. */
  net: BridgeNetwork;
  /** The lease (veth pair, address, published ports). */
  lease: Attachment;
}

/** The container whose network is set up: its state record and its init. */
export interface NetworkTarget {
  /** State root. */
  root: string;
  /** Container id. */
  id: string;
  /** Host pid of the init (held at the gate). */
  pid: number;
}

/**
 * Configure `network` in the network namespace of the container's init.
 * Refuses to touch the host's own namespace. Record before create: a
 * bridge lease id is written into the container's state record before the
 * attach makes anything, so the container's delete (and `gc()`, `ctrun
 * delete`, `ctrun gc`) releases the veth, published ports and address
 * whatever instant this process is killed at.
 */
export async function setupNetwork(target: NetworkTarget, network: NetworkOption): Promise<NetworkSetup | null> {
  const { pid } = target;
  if (network === 'none' || network === 'host') return null;
  // Rootless: the runtime already brought lo up from inside the container's
  // user namespace (this process may not join its network namespace).
  if (network === 'loopback' && process.geteuid?.() !== 0) return null;
  if (network !== 'loopback' && !(network && typeof network === 'object' && 'bridge' in network))
    throw new RuntimeError({ code: RuntimeCodes.InvalidOption, message: `network: unknown mode ${JSON.stringify(network)}`, path: 'network' });
  let nsPath: string;
  try {
    nsPath = readlinkSync(`/proc/${pid}/ns/net`);
  } catch (e) {
    throw new RuntimeError({ code: RuntimeCodes.NotRunning, message: `cannot read /proc/${pid}/ns/net: ${(e as Error).message}`, path: `/proc/${pid}/ns/net` });
  }
  if (nsPath === readlinkSync('/proc/self/ns/net'))
    throw new RuntimeError({
      code: RuntimeCodes.InvalidOption,
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
    const leaseId = randomBytes(4).toString('hex');
    await call(() => native.recordBridgeLease(target.root, target.id, BridgeNetwork.stateRoot, net.name, leaseId));
    const lease = await net.attach(ns, {
      id: leaseId,
      ifname: 'eth0',
      ports: parsePorts(network.ports, 'network.ports'),
    });
    return { net, lease };
  } finally {
    ns.close();
  }
}
