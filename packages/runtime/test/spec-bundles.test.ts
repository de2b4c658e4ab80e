// Bundles written by `runc spec` and `crun spec` (the configs engines and
// people start from) run unchanged under `ctrun run`: a terminal, a
// read-only root, ambient capabilities outside the inheritable set (which
// the kernel cannot raise: dropped, as runc and crun do), the mounts and
// masks of their defaults. Only the rootfs is ours: the busybox one,
// linked in as `rootfs`, as their `root.path` says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { skip, snapshot } from '../../../test-support';
import { leftovers, ready, rootfs, workspace } from './support';

const ctrun = resolve(__dirname, '../bin/ctrun');
const ws = workspace('specs');

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

for (const peer of ['runc', 'crun']) {
  test(`a bundle from \`${peer} spec\` runs unchanged under ctrun run`, () => {
    if (!ready(`${peer} spec bundle`)) return;
    const bin = which(peer);
    if (!bin) return skip(`${peer} spec bundle`, `${peer} is not installed (apt-get install ${peer})`);
    const before = snapshot();
    const bundle = join(ws.work, `${peer}-bundle`);
    mkdirSync(bundle);
    const spec = spawnSync(bin, ['spec'], { cwd: bundle, encoding: 'utf8' });
    assert.is(spec.status, 0, spec.stderr);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    // What makes these bundles interesting, checked so the test keeps meaning it.
    assert.is(config.process.terminal, true);
    assert.is(config.root.path, 'rootfs');
    assert.ok(config.process.capabilities.ambient.includes('CAP_KILL'));
    assert.not.ok((config.process.capabilities.inheritable ?? []).includes('CAP_KILL'));
    symlinkSync(rootfs, join(bundle, 'rootfs'));
    // The terminal's shell reads this; $((6*7)) shows as 42 only if it ran.
    const input = join(ws.work, `${peer}-in`);
    writeFileSync(input, 'echo ctr-spec-$((6*7)); exit\n');
    const out = join(ws.work, `${peer}-out`);
    const err = join(ws.work, `${peer}-err`);
    const [fi, fo, fe] = [openSync(input, 'r'), openSync(out, 'w'), openSync(err, 'w')];
    const id = ws.newId();
    let r;
    try {
      r = spawnSync(ctrun, ['--root', ws.root, 'run', '--bundle', bundle, id], { stdio: [fi, fo, fe], timeout: 30_000 });
    } finally {
      [fi, fo, fe].forEach(closeSync);
      spawnSync(ctrun, ['--root', ws.root, 'delete', '--force', id], { stdio: 'ignore' });
    }
    const stdout = readFileSync(out, 'utf8');
    assert.is(r.status, 0, `${readFileSync(err, 'utf8')}\n${stdout}`);
    assert.match(stdout, /ctr-spec-42/);
    assert.not.ok(existsSync(join(ws.root, id)), 'state dir left');
    assert.equal(leftovers(before), []);
  });
}

test.after(ws.remove);
test.run();
