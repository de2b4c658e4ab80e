// `npm run docs`: build the site (guides + API reference) into docs/api and
// serve it on 127.0.0.1, printing the URL. `--no-serve` only builds.
// PORT picks the port (default 8080, or any free one if that is taken).
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.woff2': 'font/woff2' };

/**
 * Build the site into `out`: code blocks from their files, then typedoc. Returns typedoc's output.
 * `embed: false` (the tests) leaves the markdown as it is, so that a copy out of date with its
 * file fails `docs-examples.mjs --check` instead of being rewritten by whichever test ran first.
 */
export function build(out = join(root, 'docs/api'), { embed = true } = {}) {
  if (embed) {
    const r = spawnSync(process.execPath, [join(root, 'scripts/docs-examples.mjs')], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docs-examples failed:\n${r.stdout}${r.stderr}`);
  }
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  const text = r.stdout + r.stderr;
  if (r.status !== 0) throw new Error(`typedoc failed:\n${text}`);
  return text;
}

/** Serve the directory `dir` on 127.0.0.1:`port`; resolves with the server and its URL. */
export function serve(dir, port = 0) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir)) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const out = join(root, 'docs/api');
  process.stdout.write(build(out).split('\n').filter((l) => !l.includes('[info]') || l.includes('generated')).join('\n'));
  if (!process.argv.includes('--no-serve')) {
    const wanted = Number(process.env.PORT ?? 8080);
    const { url } = await serve(out, wanted).catch(() => serve(out, 0));
    console.log(`\nctr docs: ${url}  (Ctrl-C to stop)`);
  }
}
