// ctrun's command line as runc's: help per command, every runc flag and
// alias, the legacy spellings urfave/cli accepts, and runc's exit statuses
// (usage 1, failed exec 255, a process's own status from run and exec).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { skip, snapshot } from '../../../test-support';
import { leftovers, ready, workspace } from './support';

const ctrun = resolve(__dirname, '../bin/ctrun');
const haveBin = existsSync(ctrun);
const ws = workspace('cli2');

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(ctrun, args, { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** `ctrun --root <this suite's root> ...args`. */
const ctr = (args: string[]) => run(['--root', ws.root, ...args]);

/** runc 1.5's flags and aliases per command (main.go, create.go, run.go, ...). */
const RUNC_FLAGS: Record<string, string[]> = {
  '': ['--debug', '--log', '--log-format', '--root', '--systemd-cgroup', '--rootless', '-v, --version', '-h, --help'],
  create: ['-b, --bundle', '--console-socket', '--pidfd-socket', '--pid-file', '--no-pivot', '--no-new-keyring', '--preserve-fds'],
  run: ['-b, --bundle', '--console-socket', '--pidfd-socket', '-d, --detach', '--keep', '--pid-file', '--no-subreaper', '--no-pivot', '--no-new-keyring', '--preserve-fds'],
  exec: ['--console-socket', '--pidfd-socket', '--cwd', '-e, --env', '-t, --tty', '-u, --user', '-g, --additional-gids', '-p, --process', '-d, --detach', '--pid-file', '--process-label', '--apparmor', '--no-new-privs', '-c, --cap', '--preserve-fds', '--cgroup', '--ignore-paused'],
  kill: ['-a, --all'],
  delete: ['-f, --force'],
  list: ['-f, --format', '-q, --quiet'],
  ps: ['-f, --format'],
  events: ['--interval', '--stats'],
  update: ['-r, --resources', '--blkio-weight', '--cpu-period', '--cpu-quota', '--cpu-burst', '--cpu-share', '--cpu-rt-period', '--cpu-rt-runtime', '--cpuset-cpus', '--cpuset-mems', '--memory', '--cpu-idle', '--memory-reservation', '--memory-swap', '--pids-limit', '--l3-cache-schema', '--mem-bw-schema'],
  spec: ['-b, --bundle', '--rootless'],
  start: [],
  state: [],
  pause: [],
  resume: [],
  features: [],
};

test('help: ctrun --help lists every command; ctrun help <cmd> and <cmd> --help print its flags (runc\'s, with aliases), exit 0', () => {
  if (!haveBin) return skip('ctrun help', `needs ${ctrun} (pnpm run build)`);
  const top = run(['--help']);
  assert.is(top.status, 0, top.stderr);
  for (const cmd of Object.keys(RUNC_FLAGS).filter(Boolean)) assert.match(top.stdout, new RegExp(`^\\s+${cmd}\\s`, 'm'), cmd);
  // Hidden: in the binary, not in the list.
  assert.not.match(top.stdout, /^\s+gc\s/m);
  // No command: the help, as runc.
  assert.is(run([]).stdout, top.stdout);
  for (const [cmd, flags] of Object.entries(RUNC_FLAGS)) {
    const help = cmd ? run(['help', cmd]) : top;
    assert.is(help.status, 0, `${cmd}: ${help.stderr}`);
    for (const f of flags) assert.ok(help.stdout.includes(`  ${f}`), `ctrun help ${cmd} lacks ${f}`);
    if (!cmd) continue;
    assert.match(help.stdout, new RegExp(`^Usage: ctrun ${cmd}`, 'm'));
    assert.is(run([cmd, '--help']).stdout, help.stdout, `${cmd} --help`);
    assert.is(run([cmd, '-help']).stdout, help.stdout, `${cmd} -help (urfave's spelling)`);
  }
  const none = run(['help', 'frobnicate']);
  assert.is(none.status, 1);
  assert.match(none.stderr, /frobnicate.*\[ERUNTIME_USAGE\]/);
});

test('--version and -v: version, spec, libseccomp (and the commit of a built binary)', () => {
  if (!haveBin) return skip('ctrun version', 'needs the binary');
  const v = run(['--version']);
  assert.is(v.status, 0);
  assert.match(v.stdout, /^ctrun version \d+\.\d+\.\d+\n(commit: [0-9a-f]{7,}(-dirty)?\n)?spec: 1\.2\.0\nlibseccomp: \d+\.\d+\.\d+\n$/);
  assert.is(run(['-v']).stdout, v.stdout);
});

test('usage errors exit 1 with ERUNTIME_USAGE on stderr and in the --log file (JSON), as runc', () => {
  if (!haveBin) return skip('ctrun usage errors', 'needs the binary');
  const log = join(ws.work, 'usage.log');
  for (const [args, why] of [
    [['list', '--frob'], /unexpected argument '--frob'.*usage: ctrun list/],
    [['delete'], /required arguments were not provided: <CONTAINER_ID>/],
    [['frobnicate'], /unrecognized subcommand 'frobnicate'/],
    [['list', '--format', 'yaml'], /invalid value 'yaml'/],
    [['events', '--interval', 'soon', 'x'], /not a duration/],
    [['kill', 'a', 'b', 'c'], /unexpected argument 'c'/],
    [['--log-format', 'xml', 'list'], /invalid value 'xml'/],
  ] as Array<[string[], RegExp]>) {
    const r = run(['--root', ws.root, '--log', log, '--log-format', 'json', ...args]);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
    assert.match(r.stderr, /^ctrun: .*\[ERUNTIME_USAGE\]\n$/);
  }
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.is(lines.length, 7, lines.join('\n'));
  for (const l of lines.slice(0, 6)) assert.equal([JSON.parse(l).level, JSON.parse(l).code], ['error', 'ERUNTIME_USAGE']);
  // `--log-format xml` was the refused flag: that line falls back to text.
  assert.match(lines[6], /level=error msg=".*xml.*" code=ERUNTIME_USAGE$/);
});

test('runc\'s legacy spellings: single-dash long flags, boolean values, flags after the command', () => {
  if (!haveBin) return skip('ctrun legacy flags', 'needs the binary');
  const json = run(['-root', ws.root, '-log-format', 'json', 'list', '-format', 'json']);
  assert.is(json.status, 0, json.stderr);
  assert.is(json.stdout.trim(), 'null');
  assert.is(run(['--debug=false', '--systemd-cgroup=false', '--root', ws.root, 'list', '-q']).status, 0);
  // A global flag after the command (urfave/cli v3 propagates them).
  assert.is(run(['list', '-f', 'json', '--root', ws.root]).stdout.trim(), 'null');
  const dir = join(ws.work, 'spec-legacy');
  mkdirSync(dir);
  const s = run(['spec', '-bundle', dir, '-rootless']);
  assert.is(s.status, 0, s.stderr);
  assert.ok(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).linux.namespaces.some((n: { type: string }) => n.type === 'user'));
  // --systemd-cgroup is parsed (the driver is used at create; list needs no systemd).
  const sd = run(['--systemd-cgroup', '--root', ws.root, 'list']);
  assert.is(sd.status, 0, sd.stderr);
  // Not a boolean: clap says so.
  assert.is(run(['--debug=maybe', 'list']).status, 1);
});

test('exit statuses: run and exec pass the process\'s status on (128 + signal); a failed exec is 255; run --keep keeps it', () => {
  if (!ready('ctrun exit statuses')) return;
  const before = snapshot();
  const ids: string[] = [];
  const id = () => (ids.push(ws.newId()), ids[ids.length - 1]);
  try {
    // run: the container's own status, then the record is gone (or kept with --keep).
    const ns = { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
    const exit42 = ws.bundle(['sh', '-c', 'exit 42'], ns);
    const r42 = id();
    assert.is(ctr(['run', '-b', exit42, r42]).status, 42);
    const kept = id();
    assert.is(ctr(['run', '--keep', '--bundle', exit42, kept]).status, 42);
    assert.match(ctr(['state', kept]).stdout, /"status": "stopped"/);
    assert.is(ctr(['delete', kept]).status, 0);
    assert.not.match(ctr(['list', '-q']).stdout, new RegExp(`^${r42}$`, 'm'));
    // run of a program that cannot be executed: a failed command, 1 (runc: "runc run failed").
    const nothing = ws.bundle(['no-such-program'], ns);
    const rn = ctr(['run', '-b', nothing, id()]);
    assert.is(rn.status, 1, rn.stderr);
    assert.match(rn.stderr, /no-such-program.*\[ENS_EXEC\]/);

    // exec in a running container.
    const sleeper = ws.bundle(['sleep', '300'], ns);
    const c = id();
    assert.is(ctr(['run', '-d', '-b', sleeper, c]).status, 0);
    assert.is(ctr(['exec', c, 'sh', '-c', 'exit 7']).status, 7);
    assert.is(ctr(['exec', c, 'sh', '-c', 'kill -KILL $$']).status, 137);
    // Everything after the id is the command's, flags included (runc's StopOnNthArg).
    const echoed = ctr(['exec', '-e', 'A=1', c, 'sh', '-c', 'echo "$A $0 $1"', '-t', '--root']);
    assert.is(echoed.status, 0, echoed.stderr);
    assert.is(echoed.stdout, '1 -t --root\n');
    // runc's 255: the program cannot be executed, no such container, an exec in a paused one.
    const missing = ctr(['exec', c, 'no-such-program']);
    assert.is(missing.status, 255, missing.stderr);
    assert.match(missing.stderr, /no-such-program.*\[ENS_EXEC\]/);
    assert.is(ctr(['exec', `${c}-nope`, 'true']).status, 255);
    assert.is(ctr(['pause', c]).status, 0);
    const paused = ctr(['exec', c, 'true']);
    assert.is(paused.status, 255, paused.stderr);
    assert.is(ctr(['resume', c]).status, 0);
    // A usage error stays 1 (the command line, not the exec, failed).
    assert.is(ctr(['exec']).status, 1);
    // kill -a / delete -f aliases.
    assert.is(ctr(['kill', '-a', c, 'KILL']).status, 0);
    assert.is(ctr(['delete', '-f', c]).status, 0);
  } finally {
    for (const i of ids) ctr(['delete', '--force', i]);
  }
  for (const i of ids) assert.not.ok(existsSync(join(ws.root, i)), i);
  assert.equal(leftovers(before), []);
});

test('run in the foreground: a signal from `ctrun kill` ends it with 128 + signal', async () => {
  if (!ready('ctrun run signal status')) return;
  const before = snapshot();
  const c = ws.newId();
  const b = ws.bundle(['sleep', '300'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } });
  const { spawn } = await import('node:child_process');
  const child = spawn(ctrun, ['--root', ws.root, 'run', '-b', b, c], { stdio: 'ignore' });
  try {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Wait until it runs, then kill it from outside.
    for (let i = 0; i < 200 && !/"status": "running"/.test(ctr(['state', c]).stdout); i++) await new Promise((r) => setTimeout(r, 25));
    assert.is(ctr(['kill', c, 'KILL']).status, 0);
    assert.is(await exited, 137);
  } finally {
    child.kill('SIGKILL');
    ctr(['delete', '--force', c]);
  }
  assert.not.ok(existsSync(join(ws.root, c)));
  assert.equal(leftovers(before), []);
});

test.after(ws.remove);
test.run();
