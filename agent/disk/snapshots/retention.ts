// Which snapshot sets to keep, in the style of btrbk (snapshot_preserve_min + snapshot_preserve
// "Nh Nd Nw"): every set of the last `recentMinutes`, then the first set of each hour for
// `hourly` hours, of each day for `daily` days, of each week (ISO weeks, from Monday, UTC) for
// `weekly` weeks; older sets go. Manual sets stay until someone deletes them; the newest set and
// any set a caller pins (a backup reading it) are never deleted. Pure: times in, names out.

export interface RetentionPolicy {
  recentMinutes: number;
  hourly: number;
  daily: number;
  weekly: number;
}

/** At the default 60 s schedule: 60 recent sets, 24 hourly, 7 daily, 4 weekly (about 95 sets). */
export const DEFAULT_RETENTION: RetentionPolicy = { recentMinutes: 60, hourly: 24, daily: 7, weekly: 4 };

export interface RetainedSet {
  name: string;
  at: number;
  kind: 'auto' | 'manual';
}

export type KeepReason = 'newest' | 'manual' | 'pinned' | 'recent' | 'hourly' | 'daily' | 'weekly';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// 1970-01-01 was a Thursday: shift so that buckets start on Mondays
const WEEK_OFFSET = 3 * DAY;
const WEEK = 7 * DAY;

/** Which sets stay and why; everything not in the map is to be deleted. */
export function retain(
  sets: RetainedSet[],
  now: number,
  policy: RetentionPolicy = DEFAULT_RETENTION,
  pinned: ReadonlySet<string> = new Set(),
): Map<string, KeepReason> {
  const keep = new Map<string, KeepReason>();
  const oldestFirst = [...sets].sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  const newest = oldestFirst.at(-1);
  if (newest) keep.set(newest.name, 'newest');
  for (const set of oldestFirst) {
    if (keep.has(set.name)) continue;
    if (set.kind === 'manual') keep.set(set.name, 'manual');
    else if (pinned.has(set.name)) keep.set(set.name, 'pinned');
    else if (now - set.at <= policy.recentMinutes * 60_000) keep.set(set.name, 'recent');
  }
  // the first (oldest) automatic set of each bucket inside the bucket's window
  const buckets: [KeepReason, number, number, number][] = [
    ['hourly', HOUR, 0, policy.hourly],
    ['daily', DAY, 0, policy.daily],
    ['weekly', WEEK, WEEK_OFFSET, policy.weekly],
  ];
  for (const [reason, size, offset, count] of buckets) {
    if (count <= 0) continue;
    const current = Math.floor((now + offset) / size);
    const seen = new Set<number>();
    for (const set of oldestFirst) {
      if (set.kind !== 'auto') continue;
      const bucket = Math.floor((set.at + offset) / size);
      if (current - bucket >= count || seen.has(bucket)) continue;
      seen.add(bucket);
      if (!keep.has(set.name)) keep.set(set.name, reason);
    }
  }
  return keep;
}

/** The names of the sets retention deletes, oldest first. */
export function toDelete(sets: RetainedSet[], now: number, policy?: RetentionPolicy, pinned?: ReadonlySet<string>): string[] {
  const keep = retain(sets, now, policy, pinned);
  return sets
    .filter((s) => !keep.has(s.name))
    .sort((a, b) => a.at - b.at)
    .map((s) => s.name);
}
