// In a scratch app that installed @ctr/runtime alone from the registry:
// a real container from ESM, ctrun from the platform package, one error class.
import { run, Container, RuntimeError, CTRUN_PATH } from '@ctr/runtime';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const rootfs = process.env.CTR_ROOTFS;
const r = await run({ rootfs, args: ['sh', '-c', 'echo hi from $(hostname)'], hostname: 'rel-esm', limits: { pids: 20 } });
if (r.exitCode !== 0 || r.stdout !== 'hi from rel-esm\n') throw new Error(`container said ${JSON.stringify(r)}`);
if (!CTRUN_PATH.includes('node_modules/@ctr/runtime-linux-x64-gnu/') || !existsSync(CTRUN_PATH)) throw new Error(`CTRUN_PATH ${CTRUN_PATH}`);
let err;
try {
  await Container.create({ id: 'no/such id', rootfs, args: ['true'] });
} catch (e) {
  err = e;
}
const cjs = createRequire(import.meta.url)('@ctr/runtime');
if (!(err instanceof RuntimeError) || cjs.RuntimeError !== RuntimeError) throw new Error(`not one RuntimeError for import and require: ${err}`);
console.log(JSON.stringify({ check: 'runtime-esm', stdout: r.stdout, code: err.code }));
