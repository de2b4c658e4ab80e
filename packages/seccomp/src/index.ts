/**
 * Seccomp-bpf from Node: OCI and Docker profiles compiled with libseccomp,
 * cached, explained by interpreting the BPF, installed in children spawned
 * by `@ctr/ns`, and user notifications answered from JavaScript.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { SeccompError } from './errors';
export type { SeccompErrorCode } from './codes';
export type { CommonErrorCode } from '@ctr/common';
export { Profile, compile, disassemble, syscallNames, libseccompVersion, clearCache, dockerDefault } from './profile';
export { NotificationListener, NotificationRequest, SeccompAgent, sendListener } from './notify';
export type { AgentConnection } from './notify';
export { spawn, spawnOptions } from './spawn';
export type { SpawnOptions, FilterOptions, FilteredChild } from './spawn';
export type {
  ActionName,
  OciAction,
  OciOperator,
  OciSyscallArg,
  OciSyscall,
  OciSeccomp,
  ResolveOptions,
  ParseOptions,
  CompileOptions,
  Program,
  CallArch,
  CallInput,
  Verdict,
} from './options';

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
