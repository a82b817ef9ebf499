// The pool's figures from captured `btrfs filesystem usage -b` output (an empty 256 MiB pool and the
// same pool once a write failed with ENOSPC), and the health line a full pool gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fullBelow, parseFilesystemUsage, poolFullReason } from '../../../../agent/storage/usage.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/btrfs/${name}`, import.meta.url), 'utf8');
const MiB = 1024 * 1024;

test('filesystem usage: device size, used and the estimated free space (not the "min" one, not statfs)', () => {
  assert.equal(parseFilesystemUsage(fixture('filesystem-usage.txt')), { sizeBytes: 268435456, usedBytes: 364544, freeBytes: 183496704 });
  assert.equal(parseFilesystemUsage(fixture('filesystem-usage-full.txt')), { sizeBytes: 268435456, usedBytes: 184254464, freeBytes: 0 });
});

test('filesystem usage: output without the figures is an error naming what is missing, not zeros', () => {
  assert.throws(() => parseFilesystemUsage('Overall:\n    Device size:\t\t 268435456\n'), /no "Used"/);
  assert.throws(() => parseFilesystemUsage(''), /no "Device size"/);
});

test('a full pool names the volumes holding the most, biggest first; a pool with room says nothing', () => {
  const pool = parseFilesystemUsage(fixture('filesystem-usage-full.txt'));
  const volumes = [
    { node: 'small', volume: 'data', usedBytes: 1 * MiB, quotaBytes: null },
    { node: 'filler', volume: 'data', usedBytes: 175 * MiB, quotaBytes: null },
    { node: 'capped', volume: 'logs', usedBytes: 5 * MiB, quotaBytes: 64 * MiB },
    { node: 'gone', volume: 'data', usedBytes: null, quotaBytes: null },
  ];
  const reason = poolFullReason(pool, volumes);
  assert.match(
    reason ?? '',
    new RegExp(
      '^volume pool full \\(0\\.0 MiB free of 256\\.0 MiB\\): node filler volume data uses 175\\.0 MiB, ' +
        'node capped volume logs uses 5\\.0 MiB \\(limit 64\\.0 MiB\\), node small',
    ),
  );
  assert.match(reason ?? '', /ENOSPC/);
  assert.is(poolFullReason(parseFilesystemUsage(fixture('filesystem-usage.txt')), volumes), null);
});

test('the full threshold: 5% of the pool, at least 16 MiB, at most 1 GiB', () => {
  assert.is(fullBelow(256 * MiB), 16 * MiB);
  assert.is(fullBelow(10 * 1024 * MiB), 512 * MiB);
  assert.is(fullBelow(10 * 1024 * 1024 * MiB), 1024 * MiB);
  assert.is(poolFullReason({ sizeBytes: 256 * MiB, usedBytes: 0, freeBytes: 16 * MiB - 1 }, [])?.includes('something else fills it'), true);
});

test.run();
