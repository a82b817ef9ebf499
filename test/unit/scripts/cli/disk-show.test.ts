// `station disk`: what a person reads at a glance: the pool, the store for peers, and per node its
// volumes (used/limit), snapshots and copies (have/want with the reason when fewer).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { showDisk } from '../../../../scripts/cli/commands/disk.ts';

const MiB = 2 ** 20;

test('a pool, a store, one node with two of three copies and the reason', () => {
  const text = showDisk({
    driver: 'btrfs',
    pool: { sizeBytes: 256 * MiB, usedBytes: 40 * MiB, freeBytes: 140 * MiB },
    store: { running: true, offerBytes: 1024 * MiB, usedBytes: 3 * MiB, reason: null },
    nodes: [
      {
        name: 'web',
        volumes: [{ name: 'data', usedBytes: 5 * MiB, quotaBytes: 32 * MiB }],
        snapshots: { count: 7, newest: '2026-12-04T20.15.03.123Z-auto' },
        copies: { want: 3, have: 2, reason: 'only 2 peers offer space' },
      },
    ],
  });
  assert.match(text, /volumes: btrfs, pool 40(\.0)? MiB used of 256 MiB, 140 MiB free/);
  assert.match(text, /store for peers: 3(\.0)? MiB held of 1(\.0)? GiB offered/);
  assert.match(text, /web\s+data 5(\.0)? MiB\/32(\.0)? MiB\s+7\s+2\/3 \(only 2 peers offer space\)/);
});

test('plain directories, no store, no nodes', () => {
  const text = showDisk({ driver: 'dir', pool: null, store: null, nodes: [] });
  assert.is(text, 'volumes: dir\nno node volumes');
});

test.run();
