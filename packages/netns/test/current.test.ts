import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { current } from '../src/index';

test('current() names this netns by inode and lists /sys/class/net', () => {
  const n = current();
  assert.is(n.inode, statSync('/proc/self/ns/net').ino);
  assert.equal(n.links, readdirSync('/sys/class/net').sort());
  assert.ok(n.links.includes('lo'));
});

test.run();
