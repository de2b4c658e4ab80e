import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BridgeNetwork, NetNS, NetnsError } from '../src/index';
import { isRoot, skip } from '../../../test-support';

const P = `ctq${process.pid % 100000}`;
const X = 20 + ((process.pid + 97) % 200);
const tsx = join(__dirname, '../../../node_modules/.bin/tsx');

interface Result { addresses: string[]; errors: string[]; fatal?: string }

function attachFrom(network: string, count: number) {
  const child = spawn(tsx, [join(__dirname, 'fixtures/attach-many.ts'), network, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const result = new Promise<Result>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as Result);
    });
    child.on('exit', (c) => reject(new Error(`attach child exited ${c}: ${out}`)));
  });
  const done = new Promise<number | null>((r) => child.on('exit', r));
  return { child, result, done };
}

if (!isRoot) {
  skip('parallel attach', 'needs root');
} else {
  test('50 attaches in parallel from two processes get 50 distinct addresses; all released after', async () => {
    const net = await BridgeNetwork.create({ name: `${P}p`, subnet: `10.231.${X}.0/24` });
    const kids = [attachFrom(net.name, 25), attachFrom(net.name, 25)];
    try {
      const [r1, r2] = await Promise.all(kids.map((k) => k.result));
      assert.equal([r1.errors, r2.errors], [[], []]);
      const all = [...r1.addresses, ...r2.addresses];
      assert.is(all.length, 50);
      assert.is(new Set(all).size, 50, 'distinct addresses');
      assert.ok(all.every((a) => a.startsWith(`10.231.${X}.`) && a !== net.gateway));
      assert.is((await net.attachments()).length, 50);
      const onBridge = execFileSync('ip', ['-o', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }).trim().split('\n');
      assert.is(onBridge.length, 50);
      for (const k of kids) k.child.stdin.write('go\n');
      assert.equal(await Promise.all(kids.map((k) => k.done)), [0, 0]);
      assert.is((await net.attachments()).length, 0);
      assert.is(execFileSync('ip', ['-o', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }).trim(), '');
    } finally {
      for (const k of kids) k.child.kill('SIGKILL');
      await net.delete();
    }
    assert.not.ok(existsSync(`/run/ctr/netns/${P}p`));
    assert.not.match(execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }), `ctr-${P}p`);
  });

  test('an exhausted subnet gives ENETNS_SUBNET_EXHAUSTED and leaves nothing behind', async () => {
    // /29: hosts .1-.6, .1 is the gateway: five addresses.
    const net = await BridgeNetwork.create({ name: `${P}e`, subnet: `10.231.${X}.0/29`.replace(`.${X}.`, `.${(X + 100) % 256}.`) });
    const nss = await Promise.all(Array.from({ length: 6 }, () => NetNS.create()));
    try {
      for (const ns of nss.slice(0, 5)) await net.attach(ns);
      let err: unknown;
      try {
        await net.attach(nss[5]);
      } catch (e) {
        err = e;
      }
      assert.instance(err, NetnsError);
      assert.is((err as NetnsError).code, 'ENETNS_SUBNET_EXHAUSTED');
      assert.is(await nss[5].link('eth0'), null, 'no interface made for the refused attach');
      assert.is((await net.attachments()).length, 5);
      // A specific address already leased is refused too.
      const taken = (await net.attachments())[0].address;
      const extra = await NetNS.create();
      try {
        await net.attach(extra, { address: taken }).then(
          () => assert.unreachable('attached twice'),
          (e: NetnsError) => assert.is(e.code, 'ENETNS_ADDRESS_IN_USE'),
        );
      } finally {
        extra.close();
      }
    } finally {
      await net.delete();
      for (const ns of nss) ns.close();
    }
    assert.not.ok(existsSync(`/run/ctr/netns/${P}e`));
  });
}

test.run();
