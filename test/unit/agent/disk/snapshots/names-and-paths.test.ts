// Set names (UTC, sortable, accepted as snapshot names by every driver), the paths a caller may ask
// to read from a snapshot, and when the schedule says a node is due.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDue } from '../../../../../agent/disk/snapshots/schedule.ts';
import { parseSetName, setName } from '../../../../../agent/disk/snapshots/set-records.ts';
import { snapshotRelativePath } from '../../../../../agent/disk/snapshots/snapshot-file.ts';
import type { StationError } from '../../../../../agent/errors.ts';
import { isSnapshotName } from '../../../../../agent/storage/layout.ts';

test('a set name carries its UTC instant and kind, is a valid snapshot name, and sorts by time', () => {
  const at = new Date('2026-12-04T20:15:03.123Z');
  assert.is(setName(at, 'auto'), '2026-12-04T20.15.03.123Z-auto');
  assert.ok(isSnapshotName(setName(at, 'manual')));
  assert.equal(parseSetName('2026-12-04T20.15.03.123Z-manual'), { at, kind: 'manual' });
  const times = ['2026-12-04T09:59:59.999Z', '2026-12-04T10:00:00.000Z', '2027-01-01T00:00:00.000Z'].map((t) => setName(new Date(t), 'auto'));
  assert.equal([...times].reverse().sort(), times);
});

test('names that are not sets are not taken for sets', () => {
  for (const name of ['2026-12-04T20.15.03Z-auto', '2026-12-04T20.15.03.123Z-daily', 'daily-3', '2026-13-40T99.99.99.999Z-auto', '../x']) {
    assert.is(parseSetName(name), null, name);
  }
});

const code = (f: () => unknown): string => {
  try {
    f();
    return 'accepted';
  } catch (error) {
    return (error as StationError).code;
  }
};

test('paths inside a snapshot: relative to its root, never above it', () => {
  const table: [unknown, string][] = [
    ['/etc/hostname', 'etc/hostname'],
    ['etc/hostname', 'etc/hostname'],
    ['//a/./b//c', 'a/b/c'],
    ['a/../b', 'b'],
  ];
  for (const [path, rel] of table) assert.is(snapshotRelativePath(path), rel, String(path));
  for (const bad of ['..', '../x', '/../x', 'a/../../x', '/', '', 'a\0b', 'x'.repeat(4097), 42, null]) {
    assert.is(
      code(() => snapshotRelativePath(bad)),
      'INVALID_SNAPSHOT_PATH',
      JSON.stringify(bad),
    );
  }
});

test('a node is due every snapshotSeconds after its last attempt; 0 is off', () => {
  const table: [number, number | null, number, boolean][] = [
    [60, null, 0, true],
    [60, 1000, 60_999, false],
    [60, 1000, 61_000, true],
    [0, null, 0, false],
    [1, 5000, 6000, true],
  ];
  for (const [snapshotSeconds, lastAt, now, due] of table)
    assert.is(isDue({ name: 'n', snapshotSeconds, lastAt }, now), due, JSON.stringify({ snapshotSeconds, lastAt, now }));
});

test.run();
