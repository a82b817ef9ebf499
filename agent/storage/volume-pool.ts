// The volume pool as the rest of the agent sees it (the nodes subsystem returns it): how full it is
// and what each volume holds (GET /api/v1/disk, the node view), growing the loop-backed pool, and
// whether it is full (the nodes subsystem's health). The full check runs after every reconcile
// pass and costs one statfs while there is room; only a pool under its threshold is measured per
// volume, to name who fills it.
import { statfs } from 'node:fs/promises';
import { UnavailableError, ValidationError } from '../errors.ts';
import type { Runner } from '../exec.ts';
import type { VolumeDriver, VolumeRef } from './driver.ts';
import type { OpenedStorage } from './select.ts';
import { fullBelow, poolFullReason, type PoolUsage, readPoolUsage, readVolumeUsages, type VolumeUsageRow } from './usage.ts';

const MiB = 1024 * 1024;
// a pool grows to at most this (64 TiB): a bigger number is a typo, not a disk
const MAX_POOL_MB = 64 * 1024 * 1024;

export class VolumePool {
  private readonly storage: OpenedStorage;
  private readonly run: Runner;
  private full: string | null = null;

  constructor(storage: OpenedStorage, run: Runner) {
    this.storage = storage;
    this.run = run;
  }

  get driver(): VolumeDriver {
    return this.storage.driver;
  }

  /** What the volumes are on and why (for the status page). */
  get reason(): string {
    return this.storage.reason;
  }

  /** Size, used and free of what the volumes are on: the pool, the state directory's btrfs, or its disk. */
  usage(): Promise<PoolUsage> {
    return readPoolUsage(this.storage.driver, this.storage.root, this.run);
  }

  /** Used bytes and limit per volume (all, or the ones given). */
  volumes(refs?: VolumeRef[]): Promise<VolumeUsageRow[]> {
    return readVolumeUsages(this.storage.driver, refs);
  }

  /** Grows the loop-backed pool to `sizeMB` (never shrinks). 503 where the volumes are not on a pool file. */
  async grow(sizeMB: number): Promise<PoolUsage> {
    if (!Number.isSafeInteger(sizeMB) || sizeMB < 128 || sizeMB > MAX_POOL_MB) {
      throw new ValidationError('INVALID_POOL_SIZE', `sizeMB ${sizeMB} must be a whole number of MiB from 128 to ${MAX_POOL_MB}`);
    }
    const pool = this.storage.pool;
    if (!pool) throw new UnavailableError('POOL_NOT_GROWABLE', `volumes are not on a pool file the station can grow: ${this.storage.reason}`);
    await pool.grow(sizeMB * MiB);
    this.full = null;
    await this.refresh();
    return this.usage();
  }

  /** Re-checks whether the pool is full (after each reconcile pass). */
  async refresh(): Promise<void> {
    const fs = await statfs(this.storage.root);
    if (fs.bavail * fs.bsize >= fullBelow(fs.blocks * fs.bsize)) {
      this.full = null;
      return;
    }
    const usage = await this.usage();
    // the dir driver's usage is du over every file: not worth it for the health line
    const volumes = this.storage.driver.name === 'btrfs' ? await this.volumes() : [];
    this.full = poolFullReason(usage, volumes);
  }

  /** Why the pool counts as full (names the volumes holding the most), or null. */
  problem(): string | null {
    return this.full;
  }
}
