// How one Inactive copy of a node stands, as its Active sees it (pure).
import { parseSetName } from '../../disk/snapshots/set-records.ts';

export interface ReplicaStatus {
  station: string;
  /** waiting: nothing sent yet; in-sync: it holds the newest snapshot sent; failing: the last try failed; offline */
  state: 'waiting' | 'in-sync' | 'failing' | 'offline';
  /** a newer snapshot is on its way now */
  sending: boolean;
  /** the newest snapshot it holds, and when that snapshot was taken here */
  snapshot: string | null;
  snapshotAt: string | null;
  /** when it last got everything */
  sentAt: string | null;
  /** bytes sent to it since the agent started */
  bytes: number;
  error: string | null;
  /** seconds of writes it lacks: since the newest snapshot it holds was taken (null: it holds none) */
  lagSeconds?: number | null;
}

/** how long after a failed copy it is tried again without a new snapshot */
export const FAILED_COPY_RETRY_MS = 30_000;

/**
 * Whether a copy that did not get the newest snapshot is tried again now, between snapshots: one
 * skipped because its station was offline, once the station is back; one that failed, after a
 * pause. Without this a copy missed at a snapshot waited for the next one, which for a node with
 * a long snapshot interval (or none) could be never.
 */
export function retryCopyNow(status: Pick<ReplicaStatus, 'state' | 'sending'>, peerOnline: boolean, triedAt: number, now: number): boolean {
  if (status.sending || !peerOnline) return false;
  if (status.state === 'offline') return true;
  return status.state === 'failing' && now - triedAt >= FAILED_COPY_RETRY_MS;
}

/** A copy nothing was sent to yet. */
export const waitingCopy = (station: string): ReplicaStatus => ({
  station,
  state: 'waiting',
  sending: false,
  snapshot: null,
  snapshotAt: null,
  sentAt: null,
  bytes: 0,
  error: null,
});

/** Seconds since the snapshot the replica holds was taken here: what promoting it would lose at most. */
export function copyLag(status: Pick<ReplicaStatus, 'snapshotAt'>, now: number): number | null {
  if (!status.snapshotAt) return null;
  return Math.max(0, Math.round((now - Date.parse(status.snapshotAt)) / 100) / 10);
}

/** When a snapshot set was taken, from its name (set-records.ts), as ISO 8601; null for another name. */
export function snapshotTime(snapshot: string | null): string | null {
  return (snapshot && parseSetName(snapshot)?.at.toISOString()) ?? null;
}
