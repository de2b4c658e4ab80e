/**
 * Seccomp-bpf from Node: profiles compiled to BPF for spawned children.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { SeccompError } from './errors';

/** Seccomp support of the running kernel. */
export interface KernelSupport {
  /** Whether the kernel has seccomp at all. */
  available: boolean;
  /** Filter actions it accepts (`/proc/sys/kernel/seccomp/actions_avail`). */
  actions: string[];
}

/** What seccomp support this kernel has. */
export function kernelSupport(): KernelSupport {
  return call(() => native.kernelSupport());
}
