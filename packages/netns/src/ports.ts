// The one place a port mapping's shape is checked: `{ hostPort, containerPort,
// protocol? }`, the spelling of CNI's portMappings and Kubernetes' ContainerPort
// (`@ctr/runtime` hands its `network.ports` here too).
import { NetnsError } from './errors';
import type { PublishedPort } from './options';
import { NetnsCodes } from './codes';

const FIELDS = new Set(['hostPort', 'containerPort', 'protocol']);
/** Spellings other packages or older versions used, and what replaces them. */
const RENAMED: Record<string, string> = { host: 'hostPort', container: 'containerPort', proto: 'protocol' };

function invalid(path: string, message: string): NetnsError {
  return new NetnsError({ code: NetnsCodes.InvalidPort, message: `${path}: ${message}`, path });
}

function port(value: unknown, path: string): number {
  if (value === undefined) throw invalid(path, 'required (an integer 1-65535)');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    throw invalid(path, `must be an integer 1-65535, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Check a list of published ports and fill in the default protocol. Throws a
 * {@link NetnsError} with code `ENETNS_INVALID_PORT` and `path` naming the
 * field at fault (e.g. `ports[1].hostPort`); an old spelling (`host`,
 * `container`) is refused with `ENETNS_RENAMED_OPTION` and a message naming
 * the field that replaces it.
 */
export function parsePorts(value: unknown, path = 'ports'): Required<PublishedPort>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(path, `must be an array of { hostPort, containerPort, protocol? }, got ${typeof value}`);
  return value.map((p: unknown, i) => {
    const at = `${path}[${i}]`;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw invalid(at, 'must be an object { hostPort, containerPort, protocol? }');
    for (const k of Object.keys(p)) {
      if (FIELDS.has(k)) continue;
      if (RENAMED[k])
        throw new NetnsError({ code: NetnsCodes.RenamedOption, message: `${at}.${k}: renamed, use ${RENAMED[k]} (ports are { hostPort, containerPort, protocol? })`, path: `${at}.${k}` });
      if (k === 'hostIp') throw invalid(`${at}.hostIp`, 'not supported: a port is published on every local address of the host');
      throw invalid(`${at}.${k}`, 'unknown field (ports are { hostPort, containerPort, protocol? })');
    }
    const o = p as Record<string, unknown>;
    const protocol = o.protocol ?? 'tcp';
    if (protocol !== 'tcp' && protocol !== 'udp') throw invalid(`${at}.protocol`, `must be 'tcp' or 'udp', got ${JSON.stringify(protocol)}`);
    return { hostPort: port(o.hostPort, `${at}.hostPort`), containerPort: port(o.containerPort, `${at}.containerPort`), protocol };
  });
}
