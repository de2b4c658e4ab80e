/**
 * An OCI container runtime for Node: a typed {@link Container} API over the
 * same Rust lifecycle as the `ctrun` command line.
 *
 * @packageDocumentation
 */
import { call } from './errors';
import { native } from './native';

export { RuntimeError } from './errors';
export type { Signal } from '@ctr/common';
export type { AnyRuntimeErrorCode } from './errors';
export type { OciErrorCode, RuntimeErrorCode } from './codes';
export type { CommonErrorCode } from '@ctr/common';
export { setSpawnMode, spawnMode, spawnerPid, type SpawnMode } from './spawner';
export { Container, DEFAULT_ROOT, DEFAULT_STOP_TIMEOUT, defaultRoot, CTRUN_PATH, gc } from './container';
export { ExecProcess } from './exec';
export { run, configFor } from './run';
export { parseSize } from './spec';
export type {
  BridgeAttachment,
  BundleCreateOptions,
  CommonCreateOptions,
  ContainerEvent,
  ContainerSpec,
  IdMapping,
  ContainerState,
  CreateOptions,
  EventsOptions,
  ExecOptions,
  ExitResult,
  GcResult,
  Limits,
  NetworkOption,
  OciProcess,
  PortMapping,
  RuncStats,
  RunOptions,
  RunResult,
  RootfsOptions,
  KillOptions,
  StopOptions,
  SeccompOption,
  Size,
  SpecCreateOptions,
  StdioOption,
} from './options';

/** Host facts the runtime depends on. */
export interface HostInfo {
  /** OCI runtime-spec version implemented. */
  ociVersion: string;
  /** Namespace types the kernel supports. */
  namespaces: string[];
  /** Cgroup layout: `legacy`, `hybrid` or `unified`. */
  cgroupMode: string;
}

/** Gather the host facts the runtime depends on. */
export function hostInfo(): HostInfo {
  return call(() => native.hostInfo());
}
