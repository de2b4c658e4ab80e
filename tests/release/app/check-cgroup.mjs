// In a scratch app that installed @ctr/cgroup alone from the registry:
// a real cgroup with a real limit, from ESM; one error class for import and require.
import { Cgroup, CgroupError } from '@ctr/cgroup';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const name = `/ctr-release-${process.pid}-esm`;
const cg = await Cgroup.create(name, { pids: { max: 7 } });
let limit;
try {
  limit = (await cg.readFile('pids.max')).trim();
} finally {
  await cg.delete({ kill: true });
}
if (limit !== '7') throw new Error(`pids.max of ${name} is ${limit}, not 7`);
if (cg.dirs.some((d) => existsSync(d))) throw new Error(`${name} left behind`);

let err;
try {
  await Cgroup.create(`${name}-bad`, { pids: { max: 'lots' } });
} catch (e) {
  err = e;
}
const cjs = createRequire(import.meta.url)('@ctr/cgroup');
if (!(err instanceof CgroupError) || !(err instanceof cjs.CgroupError) || cjs.CgroupError !== CgroupError) {
  throw new Error(`the error is not one CgroupError for import and require: ${err}`);
}
console.log(JSON.stringify({ check: 'cgroup-esm', limit, code: err.code }));
