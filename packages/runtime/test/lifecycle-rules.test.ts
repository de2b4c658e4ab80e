// runtime.md rules the in-process API follows like ctrun: deleting a
// container that is not stopped (a created one included) fails with no
// effect unless forced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Container, RuntimeError } from '../src/index';
import { eventually, snapshot } from '../../../test-support';
import { leftovers, ready, workspace } from './support';

const ws = workspace('rules');

test('Container.delete of a created container rejects without force and changes nothing; force kills and removes it', async () => {
  if (!ready('delete rule')) return;
  const before = snapshot();
  const id = ws.newId();
  const bundle = ws.bundle(['sleep', '100'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } });
  const c = await Container.create({ id, bundle, root: ws.root, stdio: 'ignore' });
  try {
    const err = await c.delete().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RuntimeError, String(err));
    assert.is((err as RuntimeError).code, 'ERUNTIME_STATE_INVALID');
    assert.is((await c.state()).status, 'created', 'the failed delete had no effect');
    assert.ok(existsSync(`/proc/${c.pid}`));
  } finally {
    await c.delete({ force: true });
  }
  assert.not.ok(existsSync(join(ws.root, id)));
  assert.ok(await eventually(() => leftovers(before).length === 0), leftovers(before).join('; '));
});

test.after(ws.remove);
test.run();
