#!/usr/bin/env node
// ctr-cgroup: a command line mirroring libcgroup's tools (cgcreate, cgset,
// cgexec, cgget, cgdelete) over @ctr/cgroup.
import { spawn } from '@ctr/ns';
import { Cgroup, CgroupError, detect, type CgroupOptions, type Resources } from './index';
import { CgroupCodes } from './codes';

/** The usage text (`ctr-cgroup --help`; docs/cgroup.md carries the same). */
const USAGE = `usage: ctr-cgroup <command> [options] [CONTROLLERS:]PATH

commands:
  create [-r FILE=VALUE]... PATH    create a cgroup (prints its directories), then write the values
  set -r FILE=VALUE [-r ...] PATH   write values (v1 or v2 names: memory.limit_in_bytes or memory.max)
  get -r FILE [-r ...] PATH         print values
  exec -g PATH -- COMMAND [ARG]...  run a command inside the cgroup from its first instruction
  stats PATH                        statistics as JSON
  delete [-k|--kill] PATH           remove the cgroup (with --kill, its processes first)
  detect                            the host's cgroup layout as JSON
  help                              this text

options:
  -g [CONTROLLERS:]PATH  the cgroup (libcgroup's spelling of the PATH argument)
  -r FILE[=VALUE]        a file, and the value to write (repeatable)
  -k, --kill             delete: kill the processes first
  --v1, --v2             force the back end (default: from the host's layout)
  --relative             read a PATH without a leading / under this process's own cgroup
  -h, --help             this text

paths:
  PATH starts at the root of every cgroup hierarchy: /jobs/1 is
  /sys/fs/cgroup/memory/jobs/1 (and so on) on v1, /sys/fs/cgroup/jobs/1 on v2.
  A relative PATH (jobs/1) is refused with ECGROUP_RELATIVE_PATH unless
  --relative joins it to this process's own cgroup (from /proc/self/cgroup).
  CONTROLLERS (memory,pids or *) limits the hierarchies used: memory:/jobs/1.

exit status: 0 done; 1 an error (its ECGROUP_* code on stderr); 2 a usage
error; exec: the command's own status (128 + signal when killed).`;

interface Parsed {
  cmd: string;
  sets: Array<[string, string]>;
  target?: string;
  kill: boolean;
  relative: boolean;
  help: boolean;
  rest: string[];
  backend?: 'v1' | 'v2';
}

function usage(msg: string): never {
  throw new CgroupError({ code: CgroupCodes.Usage, message: `${msg} (ctr-cgroup --help shows the usage)` });
}

/** The command line, or an `ECGROUP_USAGE` error naming what is wrong. */
function parse(argv: string[]): Parsed {
  const p: Parsed = { cmd: '', sets: [], kill: false, relative: false, help: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      p.rest = argv.slice(i + 1);
      break;
    } else if (a === '-h' || a === '--help') {
      p.help = true;
    } else if (a === '-r') {
      const kv = argv[++i] ?? usage('-r needs FILE=VALUE');
      const eq = kv.indexOf('=');
      p.sets.push(eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)]);
    } else if (a === '-g') {
      if (p.target) usage(`two cgroups given: ${p.target} and -g`);
      p.target = argv[++i] ?? usage('-g needs [CONTROLLERS:]PATH');
    } else if (a === '-k' || a === '--kill') {
      p.kill = true;
    } else if (a === '--relative') {
      p.relative = true;
    } else if (a === '--v2' || a === '--v1') {
      p.backend = a.slice(2) as 'v1' | 'v2';
    } else if (a.startsWith('-') && a !== '-') {
      usage(`unknown option ${a}`);
    } else if (!p.cmd) {
      p.cmd = a;
    } else if (!p.target) {
      p.target = a;
    } else {
      usage(`unexpected argument ${a}`);
    }
  }
  return p;
}

function target(p: Parsed): { path: string; options: CgroupOptions } {
  if (!p.target) usage(`${p.cmd} needs the cgroup: [CONTROLLERS:]PATH`);
  const colon = p.target.indexOf(':');
  const options: CgroupOptions = { backend: p.backend, ...(p.relative ? { relativeTo: 'own-cgroup' as const } : {}) };
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
  if (argv.length === 0) {
    // Misuse, not a request for help: say so, and fail (exit 2).
    process.stderr.write(`ctr-cgroup: ECGROUP_USAGE: no command given\n${USAGE}\n`);
    return 2;
  }
  const p = parse(argv);
  if (p.help || p.cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
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
      return usage('no command given');
    default:
      return usage(`unknown command ${p.cmd}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CgroupError) {
      const hint = err.code === CgroupCodes.RelativePath ? ' (on the command line: --relative)' : '';
      process.stderr.write(`ctr-cgroup: ${err.code}: ${err.message}${hint}${err.path && !err.message.includes(err.path) ? ` (${err.path})` : ''}\n`);
      // Misuse (a bad command line, a relative path without --relative): 2.
      process.exit(err.code === CgroupCodes.Usage || err.code === CgroupCodes.RelativePath ? 2 : 1);
    }
    process.stderr.write(`ctr-cgroup: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
