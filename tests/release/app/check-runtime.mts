// Compiled by tsc --strict (ESM output) in a scratch app that installed
// @ctr/runtime alone: the shipped declarations type-check, and a container runs.
import { run, type RunOptions, type RunResult } from '@ctr/runtime';

const opts: RunOptions = { rootfs: process.env.CTR_ROOTFS ?? '/nonexistent', args: ['sh', '-c', 'echo ts in $(hostname)'], hostname: 'rel-ts' };
const r: RunResult = await run(opts);
if (r.exitCode !== 0 || r.stdout !== 'ts in rel-ts\n') throw new Error(`container said ${JSON.stringify(r)}`);
console.log(JSON.stringify({ check: 'runtime-ts', stdout: r.stdout }));
