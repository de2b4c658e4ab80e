// Build one package's TypeScript: esbuild bundles src/index.ts into ESM and
// CJS; tsc writes the declarations. Run from the package's folder.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = [
  '../native/*',
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
];
const entries = ['src/index.ts', ...(pkg.ctrBuild?.entries ?? [])];
rmSync('dist', { recursive: true, force: true });
const common = { entryPoints: entries, bundle: true, platform: 'node', target: 'node20', external, outdir: 'dist', logLevel: 'warning', sourcemap: true };
await build({ ...common, format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({
  ...common,
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  // The native loader is CommonJS: give the ESM build a real require.
  banner: { js: "import { createRequire as __ctrCreateRequire } from 'node:module'; const require = __ctrCreateRequire(import.meta.url);" },
});
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
