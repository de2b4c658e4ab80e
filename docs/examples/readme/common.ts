import { CtrError } from '@ctr/common';
import { run } from '@ctr/ns';

try {
  await run('/no/such/program', []);
} catch (e) {
  if (e instanceof CtrError && e.code === 'ENS_EXEC') console.error(`${e.path}: errno ${e.errno}`);
}
