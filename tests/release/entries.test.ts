// The ESM and CommonJS entries of every package are one module: the ESM
// entry re-exports the CommonJS build (scripts/build-ts.mjs), so a class
// (every coded error above all) is the same object whether the package is
// imported or required, and `instanceof` holds across the two.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { skip } from '../../test-support';

const packages = resolve(__dirname, '../../packages');

for (const pkg of readdirSync(packages).sort()) {
  const dist = join(packages, pkg, 'dist');
  test(`@ctr/${pkg}: import and require give the same exports`, async () => {
    if (!existsSync(join(dist, 'index.mjs'))) return skip(`@ctr/${pkg} entries`, 'no build (pnpm run build)');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cjs = require(join(dist, 'index.cjs')) as Record<string, unknown>;
    const esm = (await import(pathToFileURL(join(dist, 'index.mjs')).href)) as Record<string, unknown>;
    const names = Object.keys(cjs).filter((n) => n !== '__esModule').sort();
    assert.equal(Object.keys(esm).filter((n) => n !== 'default').sort(), names);
    for (const n of names) assert.ok(esm[n] === cjs[n], `${n} differs between import and require`);
    const errors = names.filter((n) => /^[A-Z]\w*Error$/.test(n) && typeof cjs[n] === 'function');
    assert.ok(errors.length > 0, 'every package exports its coded error class');
    for (const n of errors) {
      const Cls = cjs[n] as new (init: { code: string; message: string }) => Error;
      const e = new Cls({ code: 'ETEST', message: 'made by the test' });
      assert.ok(e instanceof (esm[n] as typeof Cls), `${n} from require is not instanceof ${n} from import`);
    }
  });
}

test.run();
