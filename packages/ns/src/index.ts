/**
 * Linux namespaces from Node: spawn a process into new namespaces, shaped
 * like `child_process.spawn`.
 *
 * @packageDocumentation
 */
export { spawn, run, enter, persistNamespace, releaseNamespace, supportedNamespaces, NsChildProcess } from './spawn';
export type { EnterOptions } from './spawn';
export { NsError } from './errors';
export type { Signal } from '@ctr/common';
export type { NsErrorCode } from './codes';
export type { CommonErrorCode } from '@ctr/common';
export { Terminal } from './terminal';
export type { TerminalSize } from './terminal';
export { NAMESPACE_TYPES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './options';
export type {
  NamespaceType,
  NamespaceName,
  SpawnOptions,
  StdioOption,
  ExitResult,
  RunResult,
  IdMapEntry,
  Mount,
  RootfsOptions,
  RlimitOption,
  CapabilitiesOption,
  IoPriority,
  MemoryPolicy,
  Scheduler,
} from './options';
