import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn } from '../src/index';
import { nsLeftovers } from './support';
import { isRoot, skip, snapshot } from '../../../test-support';

// The command lines, run from their built bundles (as `npx ctr-unshare`).
const unshare = resolve(__dirname, '../dist/ctr-unshare.cjs');
const nsenter = resolve(__dirname, '../dist/ctr-nsenter.cjs');
const built = existsSync(unshare) && existsSync(nsenter);
const before = snapshot();
const cli = (file: string, args: string[]) => spawnSync(process.execPath, [file, ...args], { encoding: 'utf8' });

test('ctr-unshare --fork --pid --net --mount-proc --uts: pid 1, only lo, own hostname, exit code passed on', () => {
  if (!isRoot) return skip('ctr-unshare', 'needs root');
  if (!built) return skip('ctr-unshare', 'not built');
  const r = cli(unshare, ['--fork', '--pid', '--net', '--mount-proc', '-u', '--hostname', 'clibox', 'sh', '-c', 'echo $$; hostname; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; readlink /proc/self/ns/net; exit 5']);
  assert.is(r.status, 5, r.stderr);
  const [pid, host, ifaces, net] = r.stdout.trim().split('\n');
  assert.is(pid, '1');
  assert.is(host, 'clibox');
  assert.is(ifaces, 'lo');
  assert.is.not(net, readlinkSync('/proc/self/ns/net'));
});

test('ctr-unshare -r maps the caller to root in a user namespace', () => {
  if (!built) return skip('ctr-unshare -r', 'not built');
  const r = cli(unshare, ['-r', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], '0');
  assert.is(lines[1].trim().split(/\s+/).join(' '), `0 ${process.getuid!()} 1`);
});

test('ctr-unshare: usage and exec errors', () => {
  if (!built) return skip('ctr-unshare errors', 'not built');
  const bad = cli(unshare, ['--bogus']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /unrecognized option '--bogus'/);
  const missing = cli(unshare, ['/nonexistent/ctr-cli-binary']);
  assert.is(missing.status, 127);
  assert.match(missing.stderr, /ENS_EXEC/);
  assert.match(cli(unshare, ['--help']).stdout, /--mount-proc/);
});

test('ctr-nsenter -t PID --all and per-namespace flags', async () => {
  if (!isRoot) return skip('ctr-nsenter', 'needs root');
  if (!built) return skip('ctr-nsenter', 'not built');
  const t = spawn('sleep', ['30'], { namespaces: ['uts', 'net', 'ipc', 'mnt'], hostname: 'target', stdio: 'ignore' });
  await t.spawned;
  try {
    const all = cli(nsenter, ['-t', String(t.pid), '-a', 'sh', '-c', 'hostname; readlink /proc/self/ns/net']);
    assert.is(all.status, 0, all.stderr);
    assert.equal(all.stdout.trim().split('\n'), ['target', readlinkSync(`/proc/${t.pid}/ns/net`)]);
    const one = cli(nsenter, ['-t', String(t.pid), '-n', 'sh', '-c', 'hostname; readlink /proc/self/ns/net']);
    assert.equal(one.stdout.trim().split('\n'), [readFileHostname(), readlinkSync(`/proc/${t.pid}/ns/net`)]);
    const byFile = cli(nsenter, [`--uts=/proc/${t.pid}/ns/uts`, 'hostname']);
    assert.is(byFile.stdout.trim(), 'target');
    const none = cli(nsenter, ['hostname']);
    assert.is(none.status, 1);
    assert.match(none.stderr, /no namespace specified/);
  } finally {
    t.kill('SIGKILL');
    await t.exited;
  }
});

function readFileHostname(): string {
  return require('node:os').hostname();
}

test('nothing left behind', async () => {
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(nsLeftovers(before), []);
});

test.run();
