// Compiled by tsc --strict (CommonJS output) in a scratch app that installed
// @ctr/cgroup alone: the shipped declarations type-check, and the code runs.
import { Cgroup, CgroupError, type CgroupStats } from '@ctr/cgroup';

async function main(): Promise<void> {
  const name = `/ctr-release-${process.pid}-ts`;
  const cg: Cgroup = await Cgroup.create(name, { pids: { max: 11 }, memory: { max: '64m' } });
  let limit: string;
  let stats: CgroupStats;
  try {
    limit = (await cg.readFile('pids.max')).trim();
    stats = await cg.stats();
  } finally {
    await cg.delete({ kill: true });
  }
  if (limit !== '11') throw new Error(`pids.max of ${name} is ${limit}, not 11`);
  const e: unknown = await Cgroup.create(`${name}-bad`, { pids: { max: -5 } }).catch((x: unknown) => x);
  if (!(e instanceof CgroupError)) throw new Error(`not a CgroupError: ${String(e)}`);
  const code: string = e.code;
  console.log(JSON.stringify({ check: 'cgroup-ts', limit, code, pids: stats.pids?.current ?? null }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
