import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skip, vmProfile } from '../test-support';

// The API site is built from the packages' doc comments; an undocumented
// export is a warning, and warnings are errors (typedoc.json).
test('typedoc builds the API site for every package with no warnings', () => {
  // The site does not depend on the kernel: the host run covers it, and
  // under TCG emulation typedoc alone takes minutes.
  if (vmProfile()) return skip('typedoc', `kernel-independent, run on the host (this is the ${vmProfile()} guest)`);
  const out = mkdtempSync(join(tmpdir(), 'ctr-docs-'));
  try {
    const r = spawnSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--out', out], { encoding: 'utf8', timeout: 180_000 });
    const text = r.stdout + r.stderr;
    assert.is(r.status, 0, text);
    assert.not.match(text, /\[warning\]/, text);
    assert.ok(existsSync(join(out, 'index.html')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// Every TypeScript block of the guides and READMEs is a file under
// docs/examples/, tied to the markdown by a marker (scripts/docs-examples.mjs):
// the copies must match their files, and no block may be left without one.
test('every code block of the guides and READMEs is a real file, and the copies are current', () => {
  const r = spawnSync(process.execPath, ['scripts/docs-examples.mjs', '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test('the example files type-check under strict tsc', () => {
  if (vmProfile()) return skip('docs examples tsc', `kernel-independent, run on the host (this is the ${vmProfile()} guest)`);
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'docs/examples/tsconfig.json'], { encoding: 'utf8', timeout: 180_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test.run();
