// tier: fast (no root, no kernel objects: runs in `npm run test:fast`)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CtrError, decodeNativeError, withNativeErrors } from '../src/index';

class DemoError extends CtrError {}

const native = () =>
  new Error('\u0001ctr-error:' + JSON.stringify({ code: 'EDEMO', message: 'open /x: no such file', errno: 2, syscall: 'open', path: '/x' }));

test('decodes the JSON a native binding throws into the given class', () => {
  const e = decodeNativeError(native(), DemoError) as DemoError;
  assert.instance(e, DemoError);
  assert.instance(e, CtrError);
  assert.is(e.name, 'DemoError');
  assert.is(e.code, 'EDEMO');
  assert.is(e.errno, 2);
  assert.is(e.syscall, 'open');
  assert.is(e.path, '/x');
  assert.is(e.message, 'open /x: no such file');
});

test('leaves foreign errors alone', () => {
  const plain = new TypeError('nope');
  assert.is(decodeNativeError(plain, DemoError), plain);
});

test('withNativeErrors converts sync throws and async rejections', async () => {
  assert.throws(() => withNativeErrors(DemoError, () => { throw native(); }), (e: unknown) => e instanceof DemoError);
  try {
    await withNativeErrors(DemoError, () => Promise.reject(native()));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DemoError);
  }
  assert.is(withNativeErrors(DemoError, () => 7), 7);
});

test.run();
