// What the Active sends to one Inactive for one volume (pure): the newest snapshot, as the changes
// since the newest snapshot both sides hold (btrfs send -p), or whole when they share none (a new
// replica, or one that fell behind past the Active's retention and lost its parent).
// Only snapshot sets are copied, in the order their names give (when they were taken): btrfs gives a
// snapshot its volume's creation time, so the driver's order cannot tell them apart, and a demoted
// copy's `diverged-*` snapshot must never be taken for the newest.
import { parseSetName } from '../../disk/snapshots/set-records.ts';

/** The snapshot sets among `names`, oldest first (other snapshots are left out). */
export function setsOldestFirst(names: readonly string[]): string[] {
  const sets = names.flatMap((name) => {
    const set = parseSetName(name);
    return set ? [{ name, at: set.at.getTime() }] : [];
  });
  return sets.sort((a, b) => a.at - b.at || a.name.localeCompare(b.name)).map((s) => s.name);
}

export interface SendPlan {
  snapshot: string;
  /** the common parent; null: a full send */
  parent: string | null;
  /** false when the receiver holds the newest snapshot already */
  needed: boolean;
}

/** `ours`: this station's snapshot sets, oldest first (setsOldestFirst); `theirs`: what the receiver holds. */
export function planSend(ours: readonly string[], theirs: readonly string[]): SendPlan | null {
  const snapshot = ours.at(-1);
  if (!snapshot) return null;
  const held = new Set(theirs);
  if (held.has(snapshot)) return { snapshot, parent: null, needed: false };
  for (let i = ours.length - 2; i >= 0; i--) if (held.has(ours[i]!)) return { snapshot, parent: ours[i]!, needed: true };
  return { snapshot, parent: null, needed: true };
}
