/**
 * Linux namespaces from Node: spawn a process into new namespaces, shaped
 * like `child_process.spawn`.
 *
 * @packageDocumentation
 */
export { spawn, run, supportedNamespaces, NsChildProcess } from './spawn';
export { NsError } from './errors';
export { NAMESPACE_TYPES } from './options';
export type { NamespaceType, SpawnOptions, StdioOption, ExitResult, RunResult } from './options';
