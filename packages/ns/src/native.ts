// The generated napi-rs loader (CommonJS) and its types.
import type * as Native from '../native/index.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const native: typeof Native = require('../native/index.js');
export type { NativeChild, NativeTerminal, SpawnRequest, ExitInfo } from '../native/index.js';
