// Which volume driver a station runs, from its configuration (storageDriver) and the file system its
// state directory is on, made ready to use:
//   dir    plain directories at stateDir/volumes (the behaviour before the storage room);
//   auto   btrfs subvolumes at stateDir/volumes when that is on btrfs and btrfs-progs work, else dir;
//   btrfs  the same where the state directory is on btrfs, otherwise a loop-backed btrfs pool file
//          (pool.ts) mounted at stateDir/storage/pool, volumes under it.
// Both btrfs cases keep volumes where a node already mounts them when the state directory is on
// btrfs; only the pool moves them, so the pool is refused while directory volumes exist at
// stateDir/volumes (they would silently stop being found: moving them is Infinite Disk's migration).
// An explicit choice that cannot work is an UnavailableError with the reason (nodes are then off,
// the agent runs on); auto never fails for btrfs reasons, it falls back to dir and says why.
import { statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UnavailableError } from '../errors.ts';
import { exec, type Runner } from '../exec.ts';
import { BtrfsVolumeDriver } from './btrfs-driver.ts';
import { isBtrfs, nearestExisting } from './btrfs-fs.ts';
import { DirVolumeDriver } from './dir-driver.ts';
import type { VolumeDriver } from './driver.ts';
import { LoopPool } from './pool.ts';

export type StorageChoice = 'auto' | 'dir' | 'btrfs';

export interface StorageSettings {
  stateDir: string;
  storageDriver: StorageChoice;
  /** the loop pool's file (config load fills in stateDir/storage/pool.img) */
  storagePoolFile: string;
  /** size of a new pool file; 0: half the free space where it goes, at least 128 MiB */
  storagePoolSizeMb: number;
}

export interface OpenedStorage {
  driver: VolumeDriver;
  /** the loop-backed pool the volumes live on, when they do */
  pool: LoopPool | null;
  /** what was chosen and why, for the log and the status page */
  reason: string;
}

const MiB = 1024 * 1024;
const MIN_POOL_MB = 128;

export const volumesRoot = (stateDir: string): string => join(stateDir, 'volumes');
export const poolMountPoint = (stateDir: string): string => join(stateDir, 'storage', 'pool');

/** Builds, checks and prepares the configured driver. */
export async function openStorage(settings: StorageSettings, run: Runner = exec): Promise<OpenedStorage> {
  const root = volumesRoot(settings.stateDir);
  const choice = settings.storageDriver;
  if (choice === 'dir') return openDir(root, 'storageDriver is dir');
  const on = await nearestExisting(root);
  if (await isBtrfs(on)) {
    const btrfs = new BtrfsVolumeDriver({ root, run });
    const why = await whyNot(btrfs);
    if (!why) return { driver: btrfs, pool: null, reason: `btrfs subvolumes at ${root} (the state directory is on btrfs)` };
    if (choice === 'btrfs') throw new UnavailableError('STORAGE_UNAVAILABLE', `storageDriver is btrfs, but ${why}`);
    return openDir(root, `auto: ${on} is on btrfs, but ${why}`);
  }
  if (choice === 'auto') return openDir(root, `auto: ${on} is not on btrfs`);
  return openPool(settings, root, run);
}

async function openDir(root: string, why: string): Promise<OpenedStorage> {
  const driver = new DirVolumeDriver({ root });
  await driver.prepare();
  return { driver, pool: null, reason: `plain directories at ${root} (${why})` };
}

/** Null when the driver works here (it is then prepared), else why not. */
async function whyNot(driver: BtrfsVolumeDriver): Promise<string | null> {
  const capability = await driver.capability();
  if (!capability.available) return capability.reason;
  try {
    await driver.prepare();
    return null;
  } catch (error) {
    return `preparing it failed: ${(error as Error).message}`;
  }
}

async function openPool(settings: StorageSettings, oldRoot: string, run: Runner): Promise<OpenedStorage> {
  const found = await new DirVolumeDriver({ root: oldRoot }).listVolumes();
  if (found.length) {
    const named =
      found
        .slice(0, 3)
        .map((r) => `${r.node}/${r.volume}`)
        .join(', ') + (found.length > 3 ? ', ...' : '');
    throw new UnavailableError(
      'STORAGE_DIR_VOLUMES',
      `storageDriver is btrfs on a pool file, but ${found.length} directory volumes ` +
        `(${named}) are at ${oldRoot} and would not be found on the pool: keep storageDriver dir (or auto) until they are moved`,
    );
  }
  const sizeMB = settings.storagePoolSizeMb || (await derivedPoolSizeMB(settings.storagePoolFile));
  const mountPoint = poolMountPoint(settings.stateDir);
  const pool = new LoopPool({ file: settings.storagePoolFile, mountPoint, sizeBytes: sizeMB * MiB, run });
  try {
    await pool.ensure();
  } catch (error) {
    const why = (error as Error).message;
    throw new UnavailableError('STORAGE_UNAVAILABLE', `the btrfs pool ${settings.storagePoolFile} cannot be used: ${why}`);
  }
  const root = join(mountPoint, 'volumes');
  const driver = new BtrfsVolumeDriver({ root, run });
  const why = await whyNot(driver);
  if (why) throw new UnavailableError('STORAGE_UNAVAILABLE', `storageDriver is btrfs, but ${why}`);
  const size = (await pool.status()).sizeBytes ?? sizeMB * MiB;
  return { driver, pool, reason: `btrfs subvolumes at ${root} on the pool ${settings.storagePoolFile} (${Math.round(size / MiB)} MiB)` };
}

/** Half of what is free where the pool file goes (the file is sparse: this bounds it, it reserves nothing). */
async function derivedPoolSizeMB(file: string): Promise<number> {
  const fs = await statfs(await nearestExisting(dirname(file)));
  return Math.max(MIN_POOL_MB, Math.floor((fs.bavail * fs.bsize) / 2 / MiB));
}
