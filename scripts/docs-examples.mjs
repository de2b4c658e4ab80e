// Code blocks in the guides and READMEs are copies of real files under
// docs/examples/, which the tests type-check (strict tsc) and, for the
// tutorial, run. A block is tied to its file by a marker line right above it:
//
//   <!-- example: examples/tutorial/3-cgroup.ts -->
//   ```ts
//   ...the file's text, written here by this script...
//   ```
//
// (the path is relative to the markdown file). `node scripts/docs-examples.mjs`
// rewrites every such block from its file; `--check` only reports blocks out
// of date and exits 1. Markdown stays readable as is on GitHub and npm, and
// typedoc renders it unchanged.
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const MARKER = /^<!-- example: (\S+) -->\n```(\w+)\n[\s\S]*?^```$/gm;

/** The markdown files whose code blocks must be real files. */
export function markdownFiles() {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f));
  const readmes = readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'README.md')).filter(existsSync);
  return [join(root, 'README.md'), ...docs, ...readmes];
}

/** The text of `file` with each marked block replaced by its example. */
export function render(file) {
  const text = readFileSync(file, 'utf8');
  const examples = [];
  const out = text.replace(MARKER, (_, path, lang) => {
    const source = resolve(dirname(file), path);
    examples.push(source);
    return `<!-- example: ${path} -->\n\`\`\`${lang}\n${readFileSync(source, 'utf8').trimEnd()}\n\`\`\``;
  });
  return { text, out, examples };
}

/**
 * TypeScript/JavaScript blocks without a marker: code that nothing checks.
 * Shell and JSON blocks are commands and data, shown as such.
 */
export function unmarkedCode(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found = [];
  let inFence = false;
  lines.forEach((line, i) => {
    if (!line.startsWith('```')) return;
    if (!inFence && /^```(ts|typescript|js|javascript|mjs)\b/.test(line) && !/^<!-- example: /.test(lines[i - 1] ?? '')) found.push(`${relative(root, file)}:${i + 1}`);
    inFence = !inFence;
  });
  return found;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const file of markdownFiles()) {
    const { text, out } = render(file);
    if (text === out) continue;
    stale++;
    if (check) console.error(`out of date: ${relative(root, file)} (run node scripts/docs-examples.mjs)`);
    else writeFileSync(file, out);
  }
  const unmarked = markdownFiles().flatMap(unmarkedCode);
  if (check) for (const u of unmarked) console.error(`code block without an example file: ${u}`);
  process.exit(check && (stale || unmarked.length) ? 1 : 0);
}
