import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync, mkdirSync, readdirSync, openSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv-draft-04';
import { isRoot, skip, snapshot } from '../../../test-support';
import { leftovers, rootfs, workspace } from './support';

// The shipped binary (package.json "bin"), built by `pnpm run build`.
const ctrun = resolve(__dirname, '../bin/ctrun');
const schemaDir = resolve(__dirname, '../../../test-data/oci-runtime-spec/schema');
const ws = workspace('cli');
const work = ws.work;
const stateRoot = ws.root;
let n = 0;
const uid = ws.newId;

// A plain predicate: ajv's compile() would narrow every validated value to `unknown`.
function validator(main: string): { (data: unknown): boolean; errors?: unknown } {
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const f of readdirSync(schemaDir).filter((f) => f.endsWith('.json'))) {
    if (f === main) continue;
    ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, f), 'utf8')), f);
  }
  return ajv.compile(JSON.parse(readFileSync(join(schemaDir, main), 'utf8')));
}

function ctr(args: string[]) {
  // Files for stdio: a created container keeps the stdio of `ctrun create`.
  const out = join(work, `out-${n++}`);
  const err = join(work, `err-${n++}`);
  const fo = openSync(out, 'w');
  const fe = openSync(err, 'w');
  const r = spawnSync(ctrun, ['--root', stateRoot, ...args], { stdio: ['ignore', fo, fe] });
  closeSync(fo);
  closeSync(fe);
  return { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
}

const haveBin = existsSync(ctrun);
const haveSchema = existsSync(join(schemaDir, 'config-schema.json'));

test('ctrun spec and spec --rootless validate against config-schema.json', () => {
  if (!haveBin || !haveSchema) return skip('spec schema', `needs ${ctrun} (pnpm run build) and ${schemaDir}`);
  const validate = validator('config-schema.json');
  for (const extra of [[], ['--rootless']]) {
    const dir = join(work, `spec-${n++}`);
    mkdirSync(dir);
    execFileSync(ctrun, ['spec', '--bundle', dir, ...extra]);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.ok(validate(cfg), JSON.stringify(validate.errors));
    if (extra.length) assert.ok(cfg.linux.namespaces.some((x: { type: string }) => x.type === 'user'));
  }
  // The validator is live: a bad fixture fails.
  const bad = JSON.parse(readFileSync(join(schemaDir, 'test/config/bad/linux-hugepage.json'), 'utf8'));
  assert.not.ok(validate(bad));
});

test('ctrun features validates against features-schema.json', () => {
  if (!haveBin || !haveSchema) return skip('features schema', 'needs the binary and the schema');
  const validate = validator('features-schema.json');
  const f = JSON.parse(execFileSync(ctrun, ['features'], { encoding: 'utf8' }));
  assert.ok(validate(f), JSON.stringify(validate.errors));
  assert.is(f.ociVersionMax, '1.2.0');
  // The schema fixtures: good ones pass, the bad one fails, so the validator is live.
  const fx = join(schemaDir, 'test/features');
  assert.ok(validate(JSON.parse(readFileSync(join(fx, 'good/runc.json'), 'utf8'))));
  assert.not.ok(validate(JSON.parse(readFileSync(join(fx, 'bad/missing-ociVersionMax.json'), 'utf8'))));
});

test('ctrun --version prints the spec version', () => {
  if (!haveBin) return skip('version', 'needs the binary');
  assert.match(execFileSync(ctrun, ['--version'], { encoding: 'utf8' }), /spec: 1\.2\.0/);
});

test('ctrun state of a created and a running container validates against state-schema.json; list shows it', () => {
  if (!haveBin || !haveSchema) return skip('state schema', 'needs the binary and the schema');
  if (!isRoot) return skip('state schema', 'needs root');
  if (!existsSync(join(rootfs, 'bin/busybox'))) return skip('state schema', 'no busybox rootfs (scripts/make-rootfs.sh)');
  const before = snapshot();
  const validate = validator('state-schema.json');
  const bundle = join(work, `bundle-${n++}`);
  mkdirSync(bundle);
  symlinkSync(rootfs, join(bundle, 'rootfs'));
  writeFileSync(
    join(bundle, 'config.json'),
    JSON.stringify({
      ociVersion: '1.2.0',
      root: { path: 'rootfs' },
      process: { cwd: '/', args: ['sleep', '100'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
      annotations: { 'org.example.test': 'yes' },
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
    }),
  );
  const id = uid();
  try {
    const c = ctr(['create', '--bundle', bundle, id]);
    assert.is(c.status, 0, c.stderr);
    for (const status of ['created', 'running']) {
      if (status === 'running') assert.is(ctr(['start', id]).status, 0);
      const s = JSON.parse(ctr(['state', id]).stdout);
      assert.ok(validate(s), JSON.stringify(validate.errors));
      assert.is(s.status, status);
      assert.is(s.annotations['org.example.test'], 'yes');
      assert.ok(existsSync(`/proc/${s.pid}`));
      const list = JSON.parse(ctr(['list', '--format', 'json']).stdout);
      assert.equal(list.map((x: { id: string; status: string }) => [x.id, x.status]), [[id, status]]);
    }
    const table = ctr(['list']).stdout.split('\n');
    assert.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.match(table[1], new RegExp(`^${id}\\s+\\d+\\s+running\\s+${bundle}`));
  } finally {
    ctr(['delete', '--force', id]);
  }
  assert.not.ok(existsSync(join(stateRoot, id)));
  assert.equal(leftovers(before), []);
});

test('the built ESM and CJS entry points load and find the shipped ctrun', async () => {
  const mjs = resolve(__dirname, '../dist/index.mjs');
  if (!existsSync(mjs) || !haveBin) return skip('dist entry points', 'needs pnpm run build');
  const esm = await import(mjs);
  const cjs = require(resolve(__dirname, '../dist/index.cjs'));
  assert.is(esm.CTRUN_PATH, ctrun);
  assert.is(cjs.CTRUN_PATH, ctrun);
});

test.after(ws.remove);
test.run();
