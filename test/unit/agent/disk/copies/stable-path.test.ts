// Which mounts the stable path must undo: those under it in /proc/self/mountinfo, deepest first,
// with the kernel's octal escapes undone, and never a neighbour whose name merely starts the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mountsUnder } from '../../../../../agent/disk/copies/stable-path.ts';

// lines as the kernel prints them (captured here, paths shortened)
const INFO = [
  '24 1 0:22 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '301 24 0:45 /v/.snapshots/web/data/s1 /st/disk/stable/web/volumes/data ro,relatime shared:190 - btrfs /dev/loop3 rw',
  '302 24 0:45 /v/.snapshots/web/my\\040logs/s1 /st/disk/stable/web/volumes/my\\040logs ro,relatime - btrfs /dev/loop3 rw',
  '303 24 0:45 /v/x /st/disk/stable/webshop/volumes/data ro,relatime - btrfs /dev/loop3 rw',
  '304 301 0:45 /v/y /st/disk/stable/web/volumes/data/inner ro,relatime - btrfs /dev/loop3 rw',
].join('\n');

test('mounts under a node stable path, deepest first, escapes undone', () => {
  assert.equal(mountsUnder(INFO, '/st/disk/stable/web'), [
    '/st/disk/stable/web/volumes/data/inner',
    '/st/disk/stable/web/volumes/my logs',
    '/st/disk/stable/web/volumes/data',
  ]);
});

test('the whole stable root covers every node, and another node is not touched', () => {
  assert.is(mountsUnder(INFO, '/st/disk/stable').length, 4);
  assert.equal(mountsUnder(INFO, '/st/disk/stable/webshop'), ['/st/disk/stable/webshop/volumes/data']);
  assert.equal(mountsUnder(INFO, '/elsewhere'), []);
});

test.run();
