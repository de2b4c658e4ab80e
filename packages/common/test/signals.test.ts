import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { constants } from 'node:os';
import { MAX_SIGNAL, signalError, signalName, signalNumberOf } from '../src/index';

test('one signal vocabulary: SIGTERM, TERM, any case, numbers 1-64 (as ctrun kill)', () => {
  for (const s of ['SIGTERM', 'TERM', 'sigterm', 'term', 'SigTerm', 15]) assert.is(signalNumberOf(s), constants.signals.SIGTERM, String(s));
  assert.is(signalNumberOf('KILL'), 9);
  assert.is(signalNumberOf('SIGUSR1'), constants.signals.SIGUSR1);
  assert.is(signalNumberOf(1), 1);
  assert.is(signalNumberOf(MAX_SIGNAL), 64);
  for (const bad of ['', 'SIG', 'NOPE', 'SIGNOPE', ' TERM', '15', 0, 65, -9, 1.5, NaN, null, undefined, {}]) assert.is(signalNumberOf(bad), undefined, String(bad));
});

test('the unknown-signal message names the field and the accepted spellings; names come back as SIGxxx', () => {
  assert.is(signalError('NOPE', 'stop.signal'), `stop.signal: unknown signal "NOPE" (expected a name such as 'SIGTERM' or 'TERM', or a number from 1 to 64)`);
  assert.match(signalError(99, 'signal'), /^signal: unknown signal 99 /);
  assert.is(signalName(9), 'SIGKILL');
  assert.is(signalName(40), 'SIG40');
});

test.run();
