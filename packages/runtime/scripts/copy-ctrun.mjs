// Copy the native ctrun binary (built by cargo into <repo>/target/release)
// into this package's bin/, where package.json "bin" points.
import { copyFileSync, chmodSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const bin = new URL('../bin', import.meta.url).pathname;
mkdirSync(bin, { recursive: true });
// Copy then rename: a running ctrun (a container's init) keeps its inode.
copyFileSync(join(target, 'release', 'ctrun'), join(bin, '.ctrun.tmp'));
chmodSync(join(bin, '.ctrun.tmp'), 0o755);
renameSync(join(bin, '.ctrun.tmp'), join(bin, 'ctrun'));
