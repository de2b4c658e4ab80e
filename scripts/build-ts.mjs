// Build one package's TypeScript: esbuild bundles src/index.ts (and the
// `ctrBuild.entries`, the bins) into CommonJS; tsc writes the declarations.
// Run from the package's folder.
//
// The ESM entry is not a second bundle: dist/index.mjs re-exports the
// CommonJS build, so a class (CtrError and every package's error class above
// all) has one identity whether the package is imported or required, and
// `instanceof` holds across both. dist/index.d.mts gives the ESM entry its
// own declarations (what @arethetypeswrong/cli checks).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = [
  '../native/*',
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
];
const entries = ['src/index.ts', ...(pkg.ctrBuild?.entries ?? [])];
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: entries,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external,
  outdir: 'dist',
  logLevel: 'warning',
  sourcemap: true,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
});

// The names the CommonJS build exports (loading it also proves it loads).
const names = Object.keys(createRequire(import.meta.url)(resolve('dist/index.cjs'))).filter((n) => n !== 'default' && n !== '__esModule');
writeFileSync(
  'dist/index.mjs',
  `// ESM entry of ${pkg.name}: the CommonJS build, re-exported (one class identity for import and require).\n` +
    `import cjs from './index.cjs';\n` +
    `export const { ${names.join(', ')} } = cjs;\n`,
);
writeFileSync('dist/index.d.mts', `export * from './index.js';\n`);

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
