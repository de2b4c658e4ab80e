// The ctr-cgroup command line, run as a process: the seed's walkthrough.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, skip } from '../../../test-support';
import { detect } from '../src/index';
import { leftoverDirs, PREFIX } from './helpers';

const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('walkthrough: create memory:GROUP, set 5000000, exec a 50 MB allocation (killed), stats, delete', () => {
  if (!isRoot) return skip('cli walkthrough', 'needs root');
  const g = `memory:/${PREFIX}cli`;
  const c = cli('create', g);
  assert.is(c.code, 0, c.err);
  const dirs = c.out.trim().split('\n');
  try {
    assert.ok(dirs.length >= 1 && dirs.every((d) => existsSync(d)), c.out);
    // the v1 name works on both versions, and so does the v2 one
    assert.is(cli('set', '-r', 'memory.limit_in_bytes=5000000', g).code, 0);
    assert.match(cli('get', '-r', 'memory.limit_in_bytes', g).out + cli('get', '-r', 'memory.max', g).out, /4997120/);
    assert.is(cli('set', '-r', 'memory.max=5000000', g).code, 0);
    const inside = cli('exec', '-g', g, '--', 'cat', '/proc/self/cgroup');
    assert.is(inside.code, 0, inside.err);
    assert.match(inside.out, new RegExp(`/${PREFIX}cli\\n`));
    const oom = cli('exec', '-g', g, '--', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=50M', 'count=1');
    assert.is(oom.code, 137, oom.err);
    assert.match(oom.err, /SIGKILL/);
    const stats = JSON.parse(cli('stats', g).out);
    assert.is(stats.memory.oomKill, 1);
    assert.is(stats.memory.limit, 4997120);
  } finally {
    const d = cli('delete', '--kill', g);
    assert.is(d.code, 0, d.err);
  }
  for (const d of dirs) assert.not.ok(existsSync(d), d);
  assert.equal(leftoverDirs(), []);
});

test('errors: coded, on stderr, exit 1 (2 for usage)', () => {
  const r = cli('stats', `/${PREFIX}missing`);
  if (isRoot || r.code !== 0) {
    assert.is(r.code, 1);
    assert.match(r.err, /ECGROUP_NOT_FOUND/);
  }
  const u = cli('frobnicate');
  assert.is(u.code, 2);
  assert.match(u.err, /ECGROUP_USAGE/);
  const bad = cli('create', '-r', 'memory.max=12q', `memory:/${PREFIX}bad`);
  assert.is(bad.code, 1);
  assert.match(bad.err, /ECGROUP_INVALID_VALUE|ECGROUP_/);
  assert.equal(leftoverDirs(), []);
});

test('usage: no arguments is misuse (stderr, exit 2); --help, -h and help print it (stdout, exit 0), as docs/cgroup.md shows it', () => {
  const none = cli();
  assert.is(none.code, 2);
  assert.is(none.out, '');
  assert.match(none.err, /ECGROUP_USAGE: no command given/);
  assert.match(none.err, /^usage: ctr-cgroup <command>/m);
  const help = cli('--help');
  assert.is(help.code, 0, help.err);
  assert.match(help.out, /^usage: ctr-cgroup <command>/);
  assert.match(help.out, /--relative/);
  for (const other of [cli('-h'), cli('help'), cli('stats', '--help')]) {
    assert.is(other.code, 0);
    assert.is(other.out, help.out);
  }
  const doc = readFileSync(join(__dirname, '../../../docs/cgroup.md'), 'utf8');
  assert.ok(doc.includes(`\`\`\`text\n${help.out.trimEnd()}\n\`\`\``), 'docs/cgroup.md carries the usage text as --help prints it');
});

test('misuse exits 2 with ECGROUP_USAGE naming the fault: unknown option, missing or extra path', () => {
  for (const [args, why] of [
    [['--frob'], /unknown option --frob/],
    [['stats'], /stats needs the cgroup/],
    [['stats', `/${PREFIX}a`, `/${PREFIX}b`], /unexpected argument/],
    [['set', `/${PREFIX}a`], /set needs -r/],
    [['create', '-r'], /-r needs FILE=VALUE/],
  ] as Array<[string[], RegExp]>) {
    const r = cli(...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /ECGROUP_USAGE/);
    assert.match(r.err, why);
  }
  assert.equal(leftoverDirs(), []);
});

test('paths: absolute from the hierarchy root; relative refused (exit 2, ECGROUP_RELATIVE_PATH) unless --relative', () => {
  if (!isRoot) return skip('cli paths', 'needs root');
  const rel = `${PREFIX}clirel`;
  const refused = cli('create', rel);
  assert.is(refused.code, 2, refused.err);
  assert.match(refused.err, /ECGROUP_RELATIVE_PATH/);
  assert.match(refused.err, new RegExp(`"/${rel}"`));
  assert.match(refused.err, /--relative/);
  assert.equal(leftoverDirs(), []);
  // Opted in: under this process's own cgroup in each hierarchy (the CLI's parent, us, shares it).
  const made = cli('create', '--relative', rel);
  assert.is(made.code, 0, made.err);
  const dirs = made.out.trim().split('\n');
  try {
    const layout = detect();
    for (const d of dirs) {
      const h = layout.hierarchies.find((x) => d.startsWith(`${x.mountPoint}/`));
      assert.ok(h, d);
      const own = h!.ownPath === '/' ? '' : h!.ownPath;
      assert.is(d, `${h!.mountPoint}${own}/${rel}`);
      assert.ok(existsSync(d), d);
    }
  } finally {
    const d = cli('delete', '--relative', rel);
    assert.is(d.code, 0, d.err);
  }
  for (const d of dirs) assert.not.ok(existsSync(d), d);
  assert.equal(leftoverDirs(), []);
});

test.run();
