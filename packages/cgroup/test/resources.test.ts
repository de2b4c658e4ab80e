// Resources, units and coded errors: no kernel, no root needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { CgroupError, parseSize, validateResources, type Resources } from '../src/index';
import { signalNumber } from '../src/map';

test('friendly sizes', () => {
  assert.is(parseSize('5m'), 5 * 1024 * 1024);
  assert.is(parseSize('512k'), 512 * 1024);
  assert.is(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.is(parseSize('max'), -1);
  assert.is(parseSize(5_000_000), 5_000_000);
});

test('one size vocabulary: numbers are whole bytes (or -1), strings any case with b/ib, errors name the field', () => {
  assert.is(parseSize('64m'), 64 * 1024 ** 2);
  assert.is(parseSize('1GiB'), 1024 ** 3);
  assert.is(parseSize('64MB'), 64 * 1024 ** 2);
  assert.is(parseSize('100b'), 100);
  assert.is(parseSize(-1), -1);
  assert.is(parseSize(0), 0);
  for (const bad of [1.5, -2, NaN, Infinity, '5 megs', '', 'lots', '-1m', null]) {
    assert.throws(
      () => parseSize(bad as string, 'memory.limit'),
      (e: unknown) => e instanceof CgroupError && e.code === 'ECGROUP_INVALID_VALUE' && e.path === 'memory.limit' && e.message.startsWith('memory.limit: '),
      String(bad),
    );
  }
});

test('one signal vocabulary for killAll: SIGTERM, TERM, any case, 1-64; unknown ones name the field', () => {
  assert.is(signalNumber('TERM'), 15);
  assert.is(signalNumber('sigkill' as 'SIGKILL'), 9);
  assert.is(signalNumber(64), 64);
  for (const bad of ['NOPE', 0, 65]) {
    assert.throws(
      () => signalNumber(bad as 'TERM'),
      (e: unknown) => e instanceof CgroupError && e.code === 'ECGROUP_INVALID_VALUE' && e.path === 'signal' && /'SIGTERM' or 'TERM'/.test(e.message),
    );
  }
});

function codeOf(r: unknown): [string, string | undefined] {
  try {
    validateResources(r as Resources);
  } catch (e) {
    assert.instance(e, CgroupError);
    return [(e as CgroupError).code, (e as CgroupError).path];
  }
  return ['ok', undefined];
}

test('bad input is a coded error naming the field', () => {
  assert.equal(codeOf({ memory: { limit: -5 } }), ['ECGROUP_INVALID_VALUE', 'memory.limit']);
  assert.equal(codeOf({ memory: { max: '5 megs' } }), ['ECGROUP_INVALID_VALUE', 'memory.max']);
  assert.equal(codeOf({ pids: { limit: 'ten' } }), ['ECGROUP_INVALID_VALUE', 'pids.limit']);
  assert.equal(codeOf({ cpu: { quota: 0 } }), ['ECGROUP_INVALID_VALUE', 'cpu.quota']);
  assert.equal(codeOf({ cpu: { weight: 20000 } }), ['ECGROUP_INVALID_VALUE', 'cpu.weight']);
  assert.equal(codeOf({ bogus: {} }), ['ECGROUP_INVALID_OPTION', 'resources.bogus']);
  assert.equal(codeOf({ devices: [{ allow: true, access: 'rwx' }] }), ['ECGROUP_INVALID_VALUE', 'devices[0].access']);
  assert.equal(codeOf({ memory: { kernel: 'lots' } }), ['ECGROUP_INVALID_VALUE', 'memory.kernel']);
});

test('the OCI linux.resources of a real config is accepted as is', () => {
  // From the OCI schema fixtures: every resources object of the good configs.
  const dir = resolve(__dirname, '../../../test-data');
  let seen = 0;
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.linux && typeof o.linux === 'object' && (o.linux as Record<string, unknown>).resources) {
      const r = (o.linux as Record<string, unknown>).resources as Record<string, unknown>;
      validateResources(r as Resources);
      seen++;
    }
  };
  const good = `${dir}/oci-runtime-spec/schema/test/config/good`;
  for (const f of readdirSync(good).filter((x) => x.endsWith('.json'))) {
    try {
      walk(JSON.parse(readFileSync(`${good}/${f}`, 'utf8')));
    } catch (e) {
      throw new Error(`${f}: ${(e as Error).message}`);
    }
  }
  assert.ok(seen >= 2, `only ${seen} resources objects found in ${good}`);
  // A full config of our own in the OCI shape, as the runtime passes it.
  validateResources({
    memory: { limit: 536870912, reservation: 536870912, swap: 536870912, swappiness: 0, disableOOMKiller: false },
    cpu: { shares: 1024, quota: 1000000, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', mems: '0-7' },
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }],
    blockIO: { weight: 10, leafWeight: 10, weightDevice: [{ major: 8, minor: 0, weight: 500 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 9223372036854772000 }],
    pids: { limit: 32771 },
    network: { classID: 1048577 },
  } as Resources);
  process.stdout.write(`(checked ${seen} resources objects from OCI fixtures)\n`);
});

test.run();
