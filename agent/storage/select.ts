// Which volume driver a station runs, from its configuration (storageDriver) and the file system its
// state directory is on, made ready to use:
//   dir    plain directories at stateDir/volumes (the behaviour before the storage room);
//   auto   btrfs subvolumes: at stateDir/volumes when that is on btrfs, else on a loop-backed btrfs
//          pool file (pool.ts) mounted at stateDir/storage/pool; plain directories only where
//          neither works (no btrfs-progs, no loop devices), and then it says why;
//   btrfs  the same as auto, but what cannot work is an error instead of a fallback.
// Directory volumes found at stateDir/volumes move into subvolumes on the way (migrate.ts: nodes
// stopped first, verified copy, crash-safe), so a node finds its data on the pool. An explicit
// choice that cannot work is an UnavailableError with the reason (nodes are then off, the agent
// runs on); auto falls back to dir only while nothing lives on a pool yet: a pool file that exists
// but cannot be mounted turns nodes off rather than have them start on empty directories.
import { rm, rmdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UnavailableError } from '../errors.ts';
import { exec, type Runner } from '../exec.ts';
import { BtrfsVolumeDriver } from './btrfs-driver.ts';
import { isBtrfs, nearestExisting } from './btrfs-fs.ts';
import { BtrfsTool } from './btrfs-tool.ts';
import { DirVolumeDriver } from './dir-driver.ts';
import type { VolumeDriver, VolumeRef } from './driver.ts';
import { freeBytesAt, type MigrationOptions, VolumeMigration } from './migrate.ts';
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
  /** directory volumes moved into subvolumes at this start */
  migrated: VolumeRef[];
  /** the directory the volumes are in (on the pool, on the state directory's btrfs, or plain) */
  root: string;
}

/** What opening storage may need from the nodes: directory volumes move only with their node stopped. */
export interface StorageHooks {
  /** stops the node if it runs; throws when it cannot (nothing of it is moved then) */
  stopNode?: (node: string) => Promise<void>;
  crashPoint?: MigrationOptions['crashPoint'];
}

const MiB = 1024 * 1024;
const MIN_POOL_MB = 128;

export const volumesRoot = (stateDir: string): string => join(stateDir, 'volumes');
export const poolMountPoint = (stateDir: string): string => join(stateDir, 'storage', 'pool');

/** Builds, checks and prepares the configured driver, moving directory volumes into subvolumes. */
export async function openStorage(settings: StorageSettings, run: Runner = exec, hooks: StorageHooks = {}): Promise<OpenedStorage> {
  const root = volumesRoot(settings.stateDir);
  const choice = settings.storageDriver;
  if (choice === 'dir') {
    if (await exists(settings.storagePoolFile)) {
      throw new UnavailableError(
        'STORAGE_POOL_IN_USE',
        `storageDriver is dir, but the pool file ${settings.storagePoolFile} exists: volumes moved into it would not be found ` +
          'in plain directories; keep storageDriver auto or btrfs (or move the volumes out and remove the pool file)',
      );
    }
    return openDir(root, 'storageDriver is dir');
  }
  const fallback = async (why: string): Promise<OpenedStorage> => {
    if (choice === 'btrfs') throw new UnavailableError('STORAGE_UNAVAILABLE', `storageDriver is btrfs, but ${why}`);
    // volumes may be in a pool made before: nodes must not start on empty directories instead
    if (await exists(settings.storagePoolFile)) {
      throw new UnavailableError('STORAGE_UNAVAILABLE', `${why}, and the pool file ${settings.storagePoolFile} (which may hold volumes) cannot be used`);
    }
    return openDir(root, `auto: ${why}`);
  };
  const version = await new BtrfsTool(run, 60_000).version().catch((error: Error) => error);
  if (version instanceof Error) return fallback(`btrfs-progs do not work here (${version.message})`);
  const on = await nearestExisting(root);
  if (await isBtrfs(on)) {
    const btrfs = new BtrfsVolumeDriver({ root, run });
    const why = await whyNot(btrfs);
    if (why) return fallback(`${on} is on btrfs, but ${why}`);
    const migrated = await migrate(new VolumeMigration({ from: root, to: root, run, stopNode: stopper(hooks), ...crash(hooks) }));
    return { driver: btrfs, pool: null, reason: `btrfs subvolumes at ${root} (the state directory is on btrfs)`, migrated, root };
  }
  return openPool(settings, root, run, hooks, fallback);
}

const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => null)) !== null;
const stopper = (hooks: StorageHooks) => hooks.stopNode ?? (async () => undefined);
const crash = (hooks: StorageHooks) => (hooks.crashPoint ? { crashPoint: hooks.crashPoint } : {});

async function openDir(root: string, why: string): Promise<OpenedStorage> {
  const driver = new DirVolumeDriver({ root });
  await driver.prepare();
  return { driver, pool: null, reason: `plain directories at ${root} (${why})`, migrated: [], root };
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

async function migrate(migration: VolumeMigration, refs?: VolumeRef[]): Promise<VolumeRef[]> {
  await migration.recover();
  const pending = refs ?? (await migration.pending());
  return pending.length ? migration.migrate(pending) : [];
}

async function openPool(
  settings: StorageSettings,
  oldRoot: string,
  run: Runner,
  hooks: StorageHooks,
  fallback: (why: string) => Promise<OpenedStorage>,
): Promise<OpenedStorage> {
  const file = settings.storagePoolFile;
  const existed = await exists(file);
  const sizeMB = settings.storagePoolSizeMb || (await derivedPoolSizeMB(file));
  const mountPoint = poolMountPoint(settings.stateDir);
  const pool = new LoopPool({ file, mountPoint, sizeBytes: sizeMB * MiB, run });
  // a pool this start made and then could not use goes again, so the next start tries afresh
  const undo = async (): Promise<void> => {
    if (existed) return;
    await pool.unmount().catch(() => undefined);
    await rm(file, { force: true }).catch(() => undefined); // a path that cannot hold it (ENOTDIR) holds nothing
    await rmdir(mountPoint).catch(() => undefined);
  };
  try {
    await pool.ensure();
  } catch (error) {
    const why = `the btrfs pool ${file} cannot be used: ${(error as Error).message}`;
    await undo();
    // volumes may live in a pool that exists: never fall back to empty directories then
    if (existed) throw new UnavailableError('STORAGE_UNAVAILABLE', why);
    return fallback(why);
  }
  const root = join(mountPoint, 'volumes');
  const driver = new BtrfsVolumeDriver({ root, run });
  const why = await whyNot(driver);
  if (why) {
    await undo();
    if (existed) throw new UnavailableError('STORAGE_UNAVAILABLE', `the btrfs pool ${file} cannot be used: ${why}`);
    return fallback(why);
  }
  const migration = new VolumeMigration({ from: oldRoot, to: root, run, stopNode: stopper(hooks), ...crash(hooks) });
  await migration.recover();
  const pending = await migration.pending();
  if (pending.length) {
    const need = await migration.bytes(pending);
    const [free, hostFree] = [await freeBytesAt(root), await freeBytesAt(dirname(file))];
    // room for the copy on the pool and, the pool file being sparse, on the disk under it; 10% to spare
    if (need * 1.1 > Math.min(free, hostFree)) {
      const short = `${pending.length} directory volumes take ${mib(need)} MiB, more than the pool's ${mib(free)} MiB free (disk: ${mib(hostFree)} MiB)`;
      if (!existed && !(await driver.listVolumes()).length) {
        await undo();
        return fallback(`${short}; set storagePoolSizeMb larger`);
      }
      throw new UnavailableError('STORAGE_POOL_TOO_SMALL', `${short}: grow the pool (nothing was moved)`);
    }
  }
  const migrated = await migrate(migration, pending);
  const size = (await pool.status()).sizeBytes ?? sizeMB * MiB;
  return { driver, pool, reason: `btrfs subvolumes at ${root} on the pool ${file} (${mib(size)} MiB)`, migrated, root };
}

const mib = (bytes: number): number => Math.round(bytes / MiB);

/** Half of what is free where the pool file goes (the file is sparse: this bounds it, it reserves nothing). */
async function derivedPoolSizeMB(file: string): Promise<number> {
  const fs = await statfs(await nearestExisting(dirname(file)));
  return Math.max(MIN_POOL_MB, Math.floor((fs.bavail * fs.bsize) / 2 / MiB));
}
