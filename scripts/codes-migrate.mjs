#!/usr/bin/env node
// Replace error-code string literals with their enum variants: in Rust
// `"ENS_EXEC"` becomes `Code::Exec` (`crate::Code` imported) or
// `ctr_ns::Code::Exec` from another crate; in TypeScript `'ENS_EXEC'`
// becomes `NsCodes.Exec` (imported from the package's generated codes.ts,
// or from the owning package). Codes come from crates/*/src/code.rs.
//
// Idempotent: run it again after merging code that still spells codes as
// strings (`node scripts/codes-migrate.mjs`, then `cargo fmt --all`). The
// test `no_code_literals_outside_the_enums` (crates/ctr-codes) lists what
// is left. Literals in match patterns cannot become method calls; they are
// reported, to be rewritten by hand as guards (`e.code == Code::X`).
//
// Test files (crates/*/tests, packages/*/test, tests/) keep their literals:
// they pin the stable strings users match on.
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dryRun = process.argv.includes('--dry-run');

// crate dir -> { rust path, npm package, TS const name }
const FAMILIES = {
  'ctr-common': { rust: 'ctr_common', pkg: 'common', ts: 'CommonCodes' },
  'ctr-oci': { rust: 'ctr_oci', pkg: 'runtime', ts: 'OciCodes' },
  'ctr-ns': { rust: 'ctr_ns', pkg: 'ns', ts: 'NsCodes' },
  'ctr-cgroup': { rust: 'ctr_cgroup', pkg: 'cgroup', ts: 'CgroupCodes' },
  'ctr-seccomp': { rust: 'ctr_seccomp', pkg: 'seccomp', ts: 'SeccompCodes' },
  'ctr-netns': { rust: 'ctr_netns', pkg: 'netns', ts: 'NetnsCodes' },
  'ctr-runtime': { rust: 'ctr_runtime', pkg: 'runtime', ts: 'RuntimeCodes' },
};
// npm package -> the crate its napi binding wraps (its "own" codes)
const BINDING_CRATE = { ns: 'ctr-ns', cgroup: 'ctr-cgroup', seccomp: 'ctr-seccomp', netns: 'ctr-netns', runtime: 'ctr-runtime' };

/** code string -> { krate, variant } */
const codes = new Map();
for (const krate of Object.keys(FAMILIES)) {
  const file = join(root, 'crates', krate, 'src', 'code.rs');
  for (const m of readFileSync(file, 'utf8').matchAll(/^\s*([A-Z][A-Za-z0-9]*) = "([A-Z0-9_]+)" =>/gm)) {
    codes.set(m[2], { krate, variant: m[1] });
  }
}
if (codes.size === 0) throw new Error('no codes found in crates/*/src/code.rs');

function walk(dir, ext, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!['node_modules', 'dist', 'target'].includes(name)) walk(p, ext, out);
    } else if (name.endsWith(ext) && name !== 'code.rs' && name !== 'codes.ts') out.push(p);
  }
  return out;
}

const LITERAL = /(["'])(E[A-Z0-9_]+)\1/g;
const leftForHand = [];
let changedFiles = 0;
let replaced = 0;

// ---- Rust -------------------------------------------------------------

/** The crate a Rust file belongs to (its own `crate::Code`), or null for a binding. */
function rustOwner(file) {
  const rel = relative(root, file).split('/');
  // src/bin/* are crates of their own: they name the library's Code in full
  if (rel[0] === 'crates' && rel[3] !== 'bin') return rel[1];
  return null; // packages/<pkg>/native/src: a binding, no Code of its own
}

function migrateRust(file) {
  const text = readFileSync(file, 'utf8');
  const own = rustOwner(file);
  const testsAt = text.search(/#\[cfg\(test\)\]\s*mod tests\s*\{/);
  let needOwnTop = false;
  let needOwnTests = false;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(LITERAL)) {
    if (m[1] !== '"') continue;
    const info = codes.get(m[2]);
    if (!info) continue;
    const before = text.slice(0, m.index);
    const after = text.slice(m.index + m[0].length);
    if (inPattern(before, after)) {
      const line = before.split('\n').length;
      leftForHand.push(`${relative(root, file)}:${line}: "${m[2]}" in a pattern`);
      continue;
    }
    const path = info.krate === own ? 'Code' : `${FAMILIES[info.krate].rust}::Code`;
    let rep = `${path}::${info.variant}`;
    let end = m.index + m[0].length;
    if (after.startsWith('.into()') || after.startsWith('.to_string()')) {
      // `Code` converts into a String itself
      rep += after.startsWith('.into()') ? '.into()' : '.to_string()';
      end += after.startsWith('.into()') ? '.into()'.length : '.to_string()'.length;
    } else if (!/Error::(new|sys|io|last_os)\(\s*$/.test(before)) {
      // the Error constructors take `impl Into<String>`; elsewhere a &str
      rep += '.as_str()';
    }
    if (info.krate === own) {
      if (testsAt >= 0 && m.index > testsAt) needOwnTests = true;
      else needOwnTop = true;
    }
    out += text.slice(last, m.index) + rep;
    last = end;
    replaced += 1;
  }
  if (last === 0) return;
  out += text.slice(last);
  // import the crate's own Code where it is used
  const importLine = 'use crate::Code;';
  if (needOwnTests) {
    const t = out.search(/#\[cfg\(test\)\]\s*mod tests\s*\{/);
    const body = out.slice(t);
    const globbed = /^\s*use super::\*;/m.test(body);
    const seenThroughGlob = globbed && (needOwnTop || hasTopImport(out, importLine));
    if (!seenThroughGlob && !/^\s*use crate::Code;/m.test(body)) {
      const brace = out.indexOf('{', t) + 1;
      out = `${out.slice(0, brace)}\n    ${importLine}${out.slice(brace)}`;
    }
  }
  if (needOwnTop && !hasTopImport(out, importLine)) {
    const firstUse = afterUses(out);
    const at = firstUse >= 0 ? firstUse : afterInnerAttrs(out);
    out = `${out.slice(0, at)}${importLine}\n${firstUse >= 0 ? '' : '\n'}${out.slice(at)}`;
  }
  if (!dryRun) writeFileSync(file, out);
  changedFiles += 1;
}

/**
 * Whether the literal sits in a match pattern (`"A" =>`, `"A" | "B" =>`,
 * `("A", _) =>`), where a method call is not allowed: the text up to the
 * next `=>` holds only pattern punctuation, and no comparison precedes it.
 */
function inPattern(before, after) {
  if (/(==|!=)\s*$/.test(before)) return false;
  const arrow = after.indexOf('=>');
  if (arrow < 0 || arrow > 160) return false;
  const segment = after.slice(0, arrow);
  return !/[;{}.\n]|==|!=|::|\bif\b/.test(segment);
}

function hasTopImport(text, line) {
  const t = text.search(/#\[cfg\(test\)\]\s*mod tests\s*\{/);
  const top = t >= 0 ? text.slice(0, t) : text;
  // `use crate::Code;`, or lib.rs's own `pub use code::{Code, ...}`
  return top.split('\n').some((l) => l.trim() === line) || /^pub use code::(Code\b|\{[^}]*\bCode\b)/m.test(top);
}

/**
 * Index just after the last top-level `use` statement of the leading block
 * of them (so an attribute such as `#[cfg(test)]` on a `use` is never split
 * from its statement), or -1.
 */
function afterUses(text) {
  let end = -1;
  for (const m of text.matchAll(/^(pub(\([a-z]+\))? )?use [^;]*;\n/gm)) {
    const between = end < 0 ? '' : text.slice(end, m.index);
    if (end >= 0 && /^\s*(pub |fn |struct |enum |impl |const |static |mod |type |trait |macro_rules)/m.test(between)) break;
    end = m.index + m[0].length;
  }
  return end;
}

/** Index after the leading `//!` docs and `#![...]` attributes. */
function afterInnerAttrs(text) {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i].startsWith('//!') || lines[i].startsWith('#![') || lines[i].trim() === '')) i++;
  return lines.slice(0, i).join('\n').length + (i > 0 ? 1 : 0);
}

// ---- TypeScript ---------------------------------------------------------

function migrateTs(file) {
  const text = readFileSync(file, 'utf8');
  const pkg = relative(root, file).split('/')[1];
  const own = BINDING_CRATE[pkg] ?? `ctr-${pkg}`;
  const imports = new Map(); // module -> Set(names)
  let out = '';
  let last = 0;
  for (const m of text.matchAll(LITERAL)) {
    const info = codes.get(m[2]);
    if (!info) continue;
    const fam = FAMILIES[info.krate];
    let module;
    if (fam.pkg === pkg || info.krate === own) {
      let rel = relative(dirname(file), join(root, 'packages', pkg, 'src', 'codes'));
      if (!rel.startsWith('.')) rel = `./${rel}`;
      module = rel;
    } else module = `@ctr/${fam.pkg}`;
    if (!imports.has(module)) imports.set(module, new Set());
    imports.get(module).add(fam.ts);
    out += text.slice(last, m.index) + `${fam.ts}.${info.variant}`;
    last = m.index + m[0].length;
    replaced += 1;
  }
  if (last === 0) return;
  out += text.slice(last);
  for (const [module, names] of imports) {
    const q = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const existing = new RegExp(`^import \\{([^}]*)\\} from '${q}';`, 'm');
    const m = out.match(existing);
    if (m) {
      const have = new Set(m[1].split(',').map((s) => s.trim()).filter(Boolean));
      for (const n of names) have.add(n);
      out = out.replace(existing, `import { ${[...have].sort().join(', ')} } from '${module}';`);
    } else {
      const line = `import { ${[...names].sort().join(', ')} } from '${module}';\n`;
      const importsEnd = [...out.matchAll(/^import [^;]*;\n/gm)].pop();
      const at = importsEnd ? importsEnd.index + importsEnd[0].length : 0;
      out = out.slice(0, at) + line + out.slice(at);
    }
  }
  if (!dryRun) writeFileSync(file, out);
  changedFiles += 1;
}

const rust = [
  ...readdirSync(join(root, 'crates')).flatMap((c) => walk(join(root, 'crates', c, 'src'), '.rs')),
  ...readdirSync(join(root, 'packages')).flatMap((p) => walk(join(root, 'packages', p, 'native', 'src'), '.rs')),
];
const ts = readdirSync(join(root, 'packages')).flatMap((p) => walk(join(root, 'packages', p, 'src'), '.ts'));
for (const f of rust) migrateRust(f);
for (const f of ts) migrateTs(f);

console.log(`codes-migrate: ${replaced} literals in ${changedFiles} files${dryRun ? ' (dry run)' : ''}`);
if (leftForHand.length) {
  console.log('left for hand-editing (match patterns; write them as guards `e.code == Code::X`):');
  for (const l of leftForHand) console.log(`  ${l}`);
}
if (changedFiles && !dryRun) console.log('now run: cargo fmt --all');
