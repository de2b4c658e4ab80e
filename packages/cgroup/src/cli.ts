#!/usr/bin/env node
// ctr-cgroup: a command line mirroring libcgroup's tools (cgcreate, cgset,
// cgexec, cgget, cgdelete) over @ctr/cgroup.
import { spawn } from '@ctr/ns';
import { Cgroup, CgroupError, detect, type CgroupOptions, type Resources } from './index';

const USAGE = `usage:
  ctr-cgroup create [-r FILE=VALUE]... [-g] CONTROLLERS:PATH     (e.g. memory:mymemgroup, or just PATH)
  ctr-cgroup set -r FILE=VALUE [-r ...] [-g] [CONTROLLERS:]PATH  (v1 or v2 names: memory.limit_in_bytes, memory.max)
  ctr-cgroup exec -g [CONTROLLERS:]PATH -- COMMAND [ARG]...
  ctr-cgroup stats [-g] [CONTROLLERS:]PATH
  ctr-cgroup get -r FILE [-g] [CONTROLLERS:]PATH
  ctr-cgroup delete [-k|--kill] [-g] [CONTROLLERS:]PATH
  ctr-cgroup detect
options: --v2 / --v1 force the back end; PATH is absolute (/a/b) or relative to this process's cgroup`;

interface Parsed {
  cmd: string;
  sets: Array<[string, string]>;
  target?: string;
  kill: boolean;
  rest: string[];
  backend?: 'v1' | 'v2';
}

function usage(msg: string): never {
  throw new CgroupError({ code: 'ECGROUP_USAGE', message: `${msg}\n${USAGE}` });
}

function parse(argv: string[]): Parsed {
  const p: Parsed = { cmd: argv[0] ?? '', sets: [], kill: false, rest: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      p.rest = argv.slice(i + 1);
      break;
    } else if (a === '-r') {
      const kv = argv[++i] ?? usage('-r needs FILE=VALUE');
      const eq = kv.indexOf('=');
      p.sets.push(eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)]);
    } else if (a === '-g') {
      p.target = argv[++i] ?? usage('-g needs CONTROLLERS:PATH');
    } else if (a === '-k' || a === '--kill') {
      p.kill = true;
    } else if (a === '--v2' || a === '--v1') {
      p.backend = a.slice(2) as 'v1' | 'v2';
    } else if (!p.target) {
      p.target = a;
    } else {
      usage(`unexpected argument ${a}`);
    }
  }
  return p;
}

function target(p: Parsed): { path: string; options: CgroupOptions } {
  if (!p.target) usage('missing CONTROLLERS:PATH');
  const colon = p.target.indexOf(':');
  const options: CgroupOptions = { backend: p.backend };
  if (colon < 0) return { path: p.target, options };
  const ctrls = p.target.slice(0, colon);
  if (ctrls && ctrls !== '*') options.controllers = ctrls.split(',');
  return { path: p.target.slice(colon + 1), options };
}

/** Well-known v1 and v2 file names as resources, so either works on either version. */
function asResources(file: string, value: string): Resources | null {
  const num = (v: string): number | string => (/^-?\d+$/.test(v) ? Number(v) : v);
  switch (file) {
    case 'memory.limit_in_bytes':
    case 'memory.max':
      return { memory: { limit: num(value) } };
    case 'memory.soft_limit_in_bytes':
    case 'memory.low':
      return { memory: { reservation: num(value) } };
    case 'memory.high':
      return { memory: { high: num(value) } };
    case 'memory.memsw.limit_in_bytes':
      return { memory: { swap: num(value) } };
    case 'pids.max':
      return { pids: { limit: value === 'max' ? -1 : Number(value) } };
    case 'cpu.shares':
      return { cpu: { shares: Number(value) } };
    case 'cpu.weight':
      return { cpu: { weight: Number(value) } };
    case 'cpu.cfs_quota_us':
      return { cpu: { quota: Number(value) } };
    case 'cpu.cfs_period_us':
      return { cpu: { period: Number(value) } };
    case 'cpu.max': {
      const [q, per] = value.trim().split(/\s+/);
      return { cpu: { quota: q === 'max' ? -1 : Number(q), ...(per ? { period: Number(per) } : {}) } };
    }
    case 'cpuset.cpus':
      return { cpuset: { cpus: value } };
    case 'cpuset.mems':
      return { cpuset: { mems: value } };
    default:
      return null;
  }
}

async function apply(cg: Cgroup, sets: Array<[string, string]>): Promise<void> {
  for (const [file, value] of sets) {
    const r = asResources(file, value);
    if (r) await cg.update(r);
    else await cg.writeFile(file, value);
  }
}

async function main(argv: string[]): Promise<number> {
  const p = parse(argv);
  switch (p.cmd) {
    case 'create': {
      const { path, options } = target(p);
      const cg = await Cgroup.create(path, {}, options);
      try {
        await apply(cg, p.sets);
      } catch (err) {
        await cg.delete();
        throw err;
      }
      process.stdout.write(`${cg.dirs.join('\n')}\n`);
      return 0;
    }
    case 'set': {
      const { path, options } = target(p);
      if (!p.sets.length) usage('set needs -r FILE=VALUE');
      await apply(await Cgroup.open(path, options), p.sets);
      return 0;
    }
    case 'get': {
      const { path, options } = target(p);
      const cg = await Cgroup.open(path, options);
      for (const [file] of p.sets) process.stdout.write(`${file}: ${(await cg.readFile(file)).trimEnd()}\n`);
      return 0;
    }
    case 'exec': {
      const { path, options } = target(p);
      if (!p.rest.length) usage('exec needs -- COMMAND');
      const cg = await Cgroup.open(path, options);
      // Held before exec, moved in, then released: the command runs inside from its first instruction.
      const child = spawn(p.rest[0], p.rest.slice(1), { hold: true, stdio: 'inherit' });
      await child.spawned;
      try {
        await cg.addProcess(child.pid);
      } catch (err) {
        await child.kill('SIGKILL');
        await child.exited.catch(() => undefined);
        throw err;
      }
      await child.release();
      const r = await child.exited;
      if (r.signal) process.stderr.write(`ctr-cgroup: ${p.rest[0]} killed by ${r.signal}\n`);
      return r.exitCode ?? 128 + ((require('node:os').constants.signals as Record<string, number>)[r.signal ?? 'SIGKILL'] ?? 9);
    }
    case 'stats': {
      const { path, options } = target(p);
      process.stdout.write(`${JSON.stringify(await (await Cgroup.open(path, options)).stats(), null, 2)}\n`);
      return 0;
    }
    case 'delete': {
      const { path, options } = target(p);
      await (await Cgroup.open(path, options)).delete({ kill: p.kill });
      return 0;
    }
    case 'detect':
      process.stdout.write(`${JSON.stringify(detect(), null, 2)}\n`);
      return 0;
    case '':
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      return usage(`unknown command ${p.cmd}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CgroupError) {
      process.stderr.write(`ctr-cgroup: ${err.code}: ${err.message}${err.path && !err.message.includes(err.path) ? ` (${err.path})` : ''}\n`);
      process.exit(err.code === 'ECGROUP_USAGE' ? 2 : 1);
    }
    process.stderr.write(`ctr-cgroup: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
