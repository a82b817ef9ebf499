// What the Active sends to one Inactive for one volume (pure): the newest snapshot, as the changes
// since the newest snapshot both sides hold (btrfs send -p), or whole when they share none (a new
// replica, or one that fell behind past the Active's retention and lost its parent).

export interface SendPlan {
  snapshot: string;
  /** the common parent; null: a full send */
  parent: string | null;
  /** false when the receiver holds the newest snapshot already */
  needed: boolean;
}

/** `ours` and `theirs` oldest first, as listSnapshots gives them. */
export function planSend(ours: readonly string[], theirs: readonly string[]): SendPlan | null {
  const snapshot = ours.at(-1);
  if (!snapshot) return null;
  const held = new Set(theirs);
  if (held.has(snapshot)) return { snapshot, parent: null, needed: false };
  for (let i = ours.length - 2; i >= 0; i--) if (held.has(ours[i]!)) return { snapshot, parent: ours[i]!, needed: true };
  return { snapshot, parent: null, needed: true };
}
