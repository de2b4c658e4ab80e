// In a scratch app that installed @ctr/cgroup alone from the registry:
// a real cgroup with a real limit, from CommonJS.
const { Cgroup, CgroupError } = require('@ctr/cgroup');
const { existsSync } = require('node:fs');

(async () => {
  const name = `/ctr-release-${process.pid}-cjs`;
  const cg = await Cgroup.create(name, { pids: { max: 9 } });
  let limit;
  try {
    limit = (await cg.readFile('pids.max')).trim();
  } finally {
    await cg.delete({ kill: true });
  }
  if (limit !== '9') throw new Error(`pids.max of ${name} is ${limit}, not 9`);
  if (cg.dirs.some((d) => existsSync(d))) throw new Error(`${name} left behind`);
  const esm = await import('@ctr/cgroup');
  if (esm.CgroupError !== CgroupError) throw new Error('import and require give two CgroupError classes');
  console.log(JSON.stringify({ check: 'cgroup-cjs', limit }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
