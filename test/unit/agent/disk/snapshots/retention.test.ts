// Retention, btrbk style, on tables of times: what a station that snapshots every minute keeps
// after an hour, a day, a week and a month, and the sets that are never deleted (manual, newest,
// pinned by a backup).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_RETENTION, retain, toDelete, type RetainedSet } from '../../../../../agent/disk/snapshots/retention.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// Wednesday 2026-12-02 12:00:00 UTC
const NOW = Date.parse('2026-12-02T12:00:00Z');
const at = (iso: string): RetainedSet => ({ name: iso, at: Date.parse(iso), kind: 'auto' });

/** A set every `stepMs` for the last `spanMs`, ending at NOW. */
function every(stepMs: number, spanMs: number): RetainedSet[] {
  const sets: RetainedSet[] = [];
  for (let t = NOW - spanMs; t <= NOW; t += stepMs) sets.push({ name: new Date(t).toISOString(), at: t, kind: 'auto' });
  return sets;
}

test('a minute schedule for 35 days keeps the last hour, then one an hour for a day, one a day for a week, one a week for 4 weeks', () => {
  const sets = every(MIN, 35 * DAY);
  const keep = retain(sets, NOW);
  const count = (reason: string) => [...keep.values()].filter((r) => r === reason).length;
  // the last 60 minutes plus the set at exactly 60 minutes old
  assert.is(count('recent') + count('newest'), 61);
  // hours 12:00 and 11:00 already kept as recent; 22 more of today's and yesterday's hours
  assert.is(count('hourly'), 22);
  // days: today's first set (00:00) is an hourly one; 6 earlier days (hourly reaches back only to 13:00 yesterday)
  assert.is(count('daily'), 6);
  // weeks: this week (from Monday 2026-11-30) is covered by daily; 3 earlier weeks, first set of each
  assert.is(count('weekly'), 3);
  assert.is(keep.size, 61 + 22 + 6 + 3);
  const weekly = [...keep].filter(([, r]) => r === 'weekly').map(([n]) => n);
  assert.equal(weekly, ['2026-11-09T00:00:00.000Z', '2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
  assert.is(toDelete(sets, NOW).length, sets.length - keep.size);
});

test('the first set of each hour is the one kept for that hour', () => {
  const sets = ['2026-12-02T09:59:00Z', '2026-12-02T10:00:30Z', '2026-12-02T10:15:00Z', '2026-12-02T10:59:59Z', '2026-12-02T11:30:00Z'].map(at);
  const keep = retain(sets, NOW, { recentMinutes: 0, hourly: 3, daily: 0, weekly: 0 });
  assert.equal(
    [...keep].sort(),
    [
      ['2026-12-02T10:00:30Z', 'hourly'],
      ['2026-12-02T11:30:00Z', 'newest'],
    ],
    '09:59 is 3 hours back (12, 11, 10 are the three hours), 10:15 and 10:59 share 10:00 with an older set',
  );
});

const table: { case: string; sets: RetainedSet[]; pinned?: string[]; deleted: string[] }[] = [
  { case: 'nothing to do on no sets', sets: [], deleted: [] },
  {
    case: 'the newest set is kept even when it is very old',
    sets: [at('2025-01-01T00:00:00Z'), at('2025-01-01T00:01:00Z')],
    deleted: ['2025-01-01T00:00:00Z'],
  },
  {
    case: 'manual sets stay until someone deletes them',
    sets: [{ name: 'm', at: Date.parse('2025-01-01T00:00:00Z'), kind: 'manual' }, at('2025-01-01T00:01:00Z'), at('2026-12-02T11:59:00Z')],
    deleted: ['2025-01-01T00:01:00Z'],
  },
  {
    case: 'a set pinned by a running backup stays',
    sets: [at('2025-01-01T00:00:00Z'), at('2025-01-01T00:01:00Z'), at('2026-12-02T11:59:00Z')],
    pinned: ['2025-01-01T00:00:00Z'],
    deleted: ['2025-01-01T00:01:00Z'],
  },
  {
    case: 'two sets in the same hour beyond the last hour: the second goes',
    sets: [at('2026-12-02T08:10:00Z'), at('2026-12-02T08:20:00Z'), at('2026-12-02T11:59:00Z')],
    deleted: ['2026-12-02T08:20:00Z'],
  },
  {
    case: 'a set exactly 60 minutes old is still recent',
    sets: [at('2026-12-02T11:00:00Z'), at('2026-12-02T11:00:30Z'), at('2026-12-02T12:00:00Z')],
    deleted: [],
  },
];
for (const row of table) {
  test(`retention: ${row.case}`, () => {
    assert.equal(toDelete(row.sets, NOW, DEFAULT_RETENTION, new Set(row.pinned ?? [])), row.deleted);
  });
}

test.run();
