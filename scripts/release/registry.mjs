// A throwaway npm registry: verdaccio (installed by scripts/setup.sh into
// .cache/release-tools/verdaccio) on 127.0.0.1 only, storage and config in a
// temp dir removed by stop(), no uplink (nothing is fetched from npmjs).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repo } from './stage.mjs';

export const VERDACCIO = join(repo, '.cache/release-tools/verdaccio/node_modules/verdaccio/bin/verdaccio');

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Start a registry; returns { url, npmrc, stop }. npmrc has a token that may publish. */
export async function startRegistry() {
  if (!existsSync(VERDACCIO)) throw new Error(`${VERDACCIO} missing: run scripts/setup.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'ctr-registry-'));
  mkdirSync(join(dir, 'storage'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      '    max_users: 1',
      'uplinks: {}',
      'packages:',
      "  '@ctr/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      'log: { type: stdout, format: pretty, level: warn }',
      'server:',
      '  keepAliveTimeout: 0',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [VERDACCIO, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`verdaccio exited: ${log}`);
      const ok = await fetch(`${url}/-/ping`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${url}: ${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The one user of this registry: its token publishes.
    const res = await fetch(`${url}/-/user/org.couchdb.user:ctr`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ctr', password: `dry-run-${process.pid}`, type: 'user' }),
    });
    const body = await res.json();
    if (!body.token) throw new Error(`verdaccio refused the user: ${JSON.stringify(body)}`);
    const npmrc = join(dir, 'npmrc');
    writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${body.token}\naudit=false\nfund=false\nupdate-notifier=false\n`);
    return { url, npmrc, dir, stop, log: () => log };
  } catch (e) {
    await stop();
    throw e;
  }
}
