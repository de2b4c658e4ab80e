import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { spawn } from '../src/index';
import { isRoot, skip, snapshot, leftovers } from '../../../test-support';

// Fork safety under load: clone from the main thread while worker threads
// keep allocating (and taking malloc's locks). A child that touched the
// allocator or any lock before exec would deadlock here.
test('300 spawns in new namespaces, 50 at a time, while two workers allocate: no hang, no failure, no zombie', async () => {
  if (!isRoot) return skip('stress', 'needs root');
  const before = snapshot();
  const allocator = `
    const { parentPort } = require('node:worker_threads');
    let stop = false; parentPort.on('message', () => { stop = true; });
    (function loop() {
      for (let i = 0; i < 2000; i++) { const a = new Array(256).fill(i); Buffer.alloc(4096 + (i % 7) * 512); a.length = 0; }
      if (!stop) setImmediate(loop); else parentPort.close();
    })();`;
  const workers = [0, 1].map(() => new Worker(allocator, { eval: true }));
  const total = 300;
  const parallel = 50;
  let next = 0;
  let ok = 0;
  const failures: string[] = [];
  async function lane() {
    while (next < total) {
      next++;
      const child = spawn('true', [], { namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'], stdio: 'ignore' });
      try {
        const r = await child.exited;
        if (r.exitCode === 0) ok++;
        else failures.push(`exit ${r.exitCode} ${r.signal}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  }
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('stress test hung')), 120_000).unref());
  await Promise.race([Promise.all(Array.from({ length: parallel }, lane)), timeout]);
  for (const w of workers) w.postMessage('stop');
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  assert.equal(failures, []);
  assert.is(ok, total);
  assert.equal(leftovers(before), []);
});

test.run();
