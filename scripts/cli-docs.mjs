// docs/cli.md carries `ctrun --help` and every command's help, generated
// from ctrun's clap definition (crates/ctr-runtime/src/bin/ctrun/cli.rs)
// between two markers. The generator is a cargo test of the ctrun binary
// (`docs_cli_md_is_current`), so the check also runs with `cargo test`:
//
//   node scripts/cli-docs.mjs          rewrite the generated part
//   node scripts/cli-docs.mjs --check  exit 1 if it is out of date
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const check = process.argv.includes('--check');
const env = { ...process.env };
if (check) delete env.CTR_WRITE_CLI_DOCS;
else env.CTR_WRITE_CLI_DOCS = '1';
const r = spawnSync('cargo', ['test', '-q', '-p', 'ctr-runtime', '--bin', 'ctrun', 'docs_cli_md_is_current'], { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0 && check) console.error('docs/cli.md is out of date: run node scripts/cli-docs.mjs');
process.exit(r.status ?? 1);
