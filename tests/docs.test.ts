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

test.run();
