// The storage room's one interface. Node volumes live behind a VolumeDriver, grouped by area the way
// Incus groups its storage drivers (internal/server/storage/drivers: volumes, snapshots, migration):
// a node asks for a volume's mount source instead of computing a path, and Infinite Disk and
// replicas build on the snapshot and send/receive areas. Every method checks its names first
// (ValidationError) so bad input changes nothing; what a driver cannot do is an UnavailableError
// with the reason, never a crash.
import type { Readable, Writable } from 'node:stream';

/** One volume: a node's named volume (both DNS labels, checked by every driver method). */
export interface VolumeRef {
  node: string;
  volume: string;
}

export interface DriverCapability {
  available: boolean;
  /** Why not (or, when available, what it runs on): shown on the status page. */
  reason: string;
}

export interface VolumeUsage {
  /** Bytes the volume holds (btrfs: referenced bytes of its qgroup; dir: du). */
  usedBytes: number;
  /** The enforced limit, or null when none. `df` inside a node shows the pool, not this. */
  quotaBytes: number | null;
}

export interface SnapshotInfo {
  name: string;
  /** When the snapshot was made here (a received one: when it arrived). ISO 8601. */
  createdAt: string;
  /** Bytes the snapshot references (all its data). */
  referencedBytes: number;
  /** Bytes only this snapshot holds: what deleting it frees. */
  exclusiveBytes: number;
}

export interface CreateVolumeOptions {
  /** Limit in bytes (btrfs qgroup on referenced bytes); leave out for none. */
  quotaBytes?: number;
}

export interface OpenSnapshotOptions {
  /** Limit for the new volume: a number, null for none; left out, it keeps the snapshot's. */
  quotaBytes?: number | null;
}

export interface SendOptions {
  /** An older snapshot of the same volume that the receiver already holds: only the changes go. */
  parent?: string;
}

/** Volumes: create, delete, find, measure, limit, and where a node mounts them from. */
export interface VolumeOperations {
  /** Makes an empty volume. ConflictError VOLUME_EXISTS when it is there already. */
  createVolume(ref: VolumeRef, options?: CreateVolumeOptions): Promise<void>;
  /** Removes the volume and its local snapshots. NotFoundError VOLUME_NOT_FOUND when missing. */
  deleteVolume(ref: VolumeRef): Promise<void>;
  volumeExists(ref: VolumeRef): Promise<boolean>;
  /** Every volume, or one node's, sorted by node then volume. */
  listVolumes(node?: string): Promise<VolumeRef[]>;
  volumeUsage(ref: VolumeRef): Promise<VolumeUsage>;
  /** Sets (bytes) or clears (null) the volume's limit. */
  setVolumeQuota(ref: VolumeRef, quotaBytes: number | null): Promise<void>;
  /** The host path bind-mounted into the node. Pure: it does not check that the volume exists. */
  mountSource(ref: VolumeRef): string;
}

/** A snapshot ready to be taken: its program already started and waiting (armSnapshot). */
export interface ArmedSnapshot {
  /** Takes it now; rejects as createSnapshot would. */
  fire(): Promise<void>;
  /** Lets the waiting program go without taking it. */
  disarm(): Promise<void>;
}

/** Snapshots: read-only, point-in-time copies of one volume. */
export interface SnapshotOperations {
  /** A read-only snapshot of the volume as it is now. ConflictError SNAPSHOT_EXISTS on a taken name. */
  createSnapshot(ref: VolumeRef, name: string): Promise<void>;
  /** Optional: createSnapshot split in two, so that snapshots taken while a node stands still do not
   * pay for starting programs (measured: about half of a 3-volume set's frozen window). */
  armSnapshot?(ref: VolumeRef, name: string): Promise<ArmedSnapshot>;
  /** The volume's snapshots with their sizes, oldest first ([] when it has none). */
  listSnapshots(ref: VolumeRef): Promise<SnapshotInfo[]>;
  deleteSnapshot(ref: VolumeRef, name: string): Promise<void>;
  /** Rolls the volume back to the snapshot, keeping its quota. The node must be stopped: a running
   * node keeps the old contents mounted until it restarts. */
  restoreSnapshot(ref: VolumeRef, name: string): Promise<void>;
  /** Opens the snapshot as a new writable volume `target` (the snapshot stays). */
  volumeFromSnapshot(ref: VolumeRef, name: string, target: VolumeRef, options?: OpenSnapshotOptions): Promise<void>;
  /** The read-only snapshot's host path (to read files from, or bind-mount at a stable path for a
   * backup). Pure, like mountSource: it does not check that the snapshot exists. */
  snapshotSource(ref: VolumeRef, name: string): string;
}

/** Send/receive: a snapshot as a byte stream, whole or as the changes since a parent. */
export interface TransferOperations {
  /** Writes the snapshot's stream to `to`; `to` is ended on success and destroyed on failure. */
  sendSnapshot(ref: VolumeRef, name: string, to: Writable, options?: SendOptions): Promise<void>;
  /** Reads a stream made by sendSnapshot into the volume's snapshots (read-only, the sender's name).
   * A stream that fails or is cut off leaves nothing behind. */
  receiveSnapshot(ref: VolumeRef, from: Readable): Promise<{ snapshot: string }>;
}

export type DriverName = 'dir' | 'btrfs';

export interface VolumeDriver extends VolumeOperations, SnapshotOperations, TransferOperations {
  readonly name: DriverName;
  /** What this driver can do at all (a feature it lacks is an UnavailableError when asked for). */
  readonly supports: { quotas: boolean; snapshots: boolean; transfer: boolean };
  /** Whether the driver works on this machine, and why not (principle 4: never a crash). */
  capability(): Promise<DriverCapability>;
  /** Makes the driver's directories and finishes work a crash interrupted; idempotent. */
  prepare(): Promise<void>;
}

/** Removes every volume of a node (and their snapshots): `DELETE /nodes/:name?volumes=delete`. */
export async function deleteNodeVolumes(driver: VolumeDriver, node: string): Promise<void> {
  for (const ref of await driver.listVolumes(node)) await driver.deleteVolume(ref);
}
