// The dir driver: a volume is a plain directory, ROOT/<node>/<volume> (today's behaviour, the same
// paths, so volumes made before the storage room are found). It works on any file system and has
// no quotas, snapshots or send/receive; asking for them is a clear UnavailableError.
//
// Why no snapshots by copying: a copy of a live directory takes time in proportion to its size and
// is not taken at one instant (files change while it runs), so it would be neither crash-consistent
// nor cheap, doubles the space used, and could not be kept read-only against root. Offering it under
// the name "snapshot" would promise what Infinite Disk needs and not deliver it; the btrfs driver does.
import { mkdir, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { ConflictError, UnavailableError } from '../errors.ts';
import { exec, type Runner } from '../exec.ts';
import type { CreateVolumeOptions, DriverCapability, SnapshotInfo, VolumeDriver, VolumeRef, VolumeUsage } from './driver.ts';
import { checkRef, checkSnapshotName, describe, LaidOutVolumes } from './layout.ts';
import { parseDuBytes } from './parsers.ts';

export interface DirDriverOptions {
  /** stateDir/volumes */
  root: string;
  run?: Runner;
}

const BTRFS_HINT = 'volumes are plain directories (the dir driver); the btrfs driver has';

export class DirVolumeDriver extends LaidOutVolumes implements VolumeDriver {
  readonly name = 'dir' as const;
  readonly supports = { quotas: false, snapshots: false, transfer: false };
  private readonly run: Runner;

  constructor(options: DirDriverOptions) {
    super(options.root);
    this.run = options.run ?? exec;
  }

  async capability(): Promise<DriverCapability> {
    return { available: true, reason: `volumes are plain directories under ${this.layout.root} (no quotas, snapshots or send/receive)` };
  }

  async prepare(): Promise<void> {
    // 0700: only root walks into the volumes of all nodes (each volume sets its own mode)
    await mkdir(this.layout.root, { recursive: true, mode: 0o700 });
  }

  // ---- volumes ----

  async createVolume(ref: VolumeRef, options: CreateVolumeOptions = {}): Promise<void> {
    checkRef(ref);
    if (options.quotaBytes !== undefined) throw unsupported('STORAGE_QUOTA_UNSUPPORTED', `quotas: ${BTRFS_HINT} them`);
    await mkdir(this.layout.nodeDir(ref.node), { recursive: true, mode: 0o700 });
    // not recursive: EEXIST tells a second create apart without a check-then-act race
    await mkdir(this.layout.volumePath(ref)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new ConflictError('VOLUME_EXISTS', `volume ${describe(ref)} already exists`);
      throw error;
    });
  }

  async deleteVolume(ref: VolumeRef): Promise<void> {
    await rm(await this.layout.requireVolume(ref), { recursive: true, force: true });
    await this.layout.pruneEmpty(ref);
  }

  async volumeUsage(ref: VolumeRef): Promise<VolumeUsage> {
    const path = await this.layout.requireVolume(ref);
    // -x: a mount inside the volume is not the volume's; -B1: bytes on disk, as a quota would count
    const du = await this.run(['du', '-s', '-x', '-B1', path], { timeoutMs: 300_000 });
    return { usedBytes: parseDuBytes(du.stdout), quotaBytes: null };
  }

  async setVolumeQuota(ref: VolumeRef, _quotaBytes: number | null): Promise<void> {
    checkRef(ref);
    throw unsupported('STORAGE_QUOTA_UNSUPPORTED', `quotas: ${BTRFS_HINT} them`);
  }

  // ---- snapshots: not offered (see the top of this file) ----

  async createSnapshot(ref: VolumeRef, name: string): Promise<void> {
    this.checkSnapshotCall(ref, name);
  }

  async listSnapshots(ref: VolumeRef): Promise<SnapshotInfo[]> {
    checkRef(ref);
    return []; // a plain directory has none; listing them is not an error
  }

  async deleteSnapshot(ref: VolumeRef, name: string): Promise<void> {
    this.checkSnapshotCall(ref, name);
  }

  async restoreSnapshot(ref: VolumeRef, name: string): Promise<void> {
    this.checkSnapshotCall(ref, name);
  }

  async volumeFromSnapshot(ref: VolumeRef, name: string, target: VolumeRef): Promise<void> {
    checkRef(target);
    this.checkSnapshotCall(ref, name);
  }

  snapshotSource(ref: VolumeRef, name: string): string {
    this.checkSnapshotCall(ref, name);
  }

  // ---- send/receive: not offered ----

  async sendSnapshot(ref: VolumeRef, name: string, _to: Writable): Promise<void> {
    checkRef(ref);
    checkSnapshotName(name);
    throw unsupported('STORAGE_TRANSFER_UNSUPPORTED', `send/receive: ${BTRFS_HINT} it`);
  }

  async receiveSnapshot(ref: VolumeRef, _from: Readable): Promise<{ snapshot: string }> {
    checkRef(ref);
    throw unsupported('STORAGE_TRANSFER_UNSUPPORTED', `send/receive: ${BTRFS_HINT} it`);
  }

  private checkSnapshotCall(ref: VolumeRef, name: string): never {
    checkRef(ref);
    checkSnapshotName(name);
    throw unsupported('STORAGE_SNAPSHOTS_UNSUPPORTED', `snapshots: ${BTRFS_HINT} them (a copy of a live directory is not a snapshot)`);
  }
}

const unsupported = (code: string, what: string) => new UnavailableError(code, `no ${what}`);
