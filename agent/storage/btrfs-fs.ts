// What kind of file system a path is on, and the two btrfs moves the node templates use: a rootfs
// made a subvolume (where the parent is btrfs) so that a node's full clone is a snapshot in tens of
// milliseconds instead of a copy. Carried over from the former agent/nodes/lxc/clone.ts.
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Runner } from '../exec.ts';

const BTRFS_SUPER_MAGIC = 0x9123683e;
// the root directory of every btrfs subvolume has this inode number
const BTRFS_SUBVOLUME_INODE = 256;

export const isBtrfs = async (path: string): Promise<boolean> => (await statfs(path).catch(() => null))?.type === BTRFS_SUPER_MAGIC;

export async function isBtrfsSubvolume(path: string): Promise<boolean> {
  return (await isBtrfs(path)) && (await stat(path).catch(() => null))?.ino === BTRFS_SUBVOLUME_INODE;
}

/** The path itself or its nearest ancestor that exists: what a not yet made directory will sit on. */
export async function nearestExisting(path: string): Promise<string> {
  let current = path;
  while (!(await stat(current).catch(() => null))) {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

export type CloneMethod = 'btrfs-snapshot' | 'copy';

/** A full copy of `source` at `target`: a btrfs snapshot where both allow it, else `cp -a --reflink=auto`. */
export async function cloneTree(run: Runner, source: string, target: string): Promise<CloneMethod> {
  if ((await isBtrfsSubvolume(source)) && (await isBtrfs(dirname(target)))) {
    // a snapshot only works within one filesystem; anything else falls back to a copy
    const snap = await run(['btrfs', 'subvolume', 'snapshot', source, target], { allowFailure: true, timeoutMs: 120_000 });
    if (snap.exitCode === 0) return 'btrfs-snapshot';
  }
  await run(['cp', '-a', '--reflink=auto', source, target], { timeoutMs: 600_000 });
  return 'copy';
}

/** Makes `path` a btrfs subvolume when its parent is on btrfs (so clones can be snapshots), else a directory. */
export async function makeSubvolumeOrDirectory(run: Runner, path: string): Promise<'subvolume' | 'directory'> {
  if (await isBtrfs(dirname(path))) {
    await run(['btrfs', 'subvolume', 'create', path]);
    return 'subvolume';
  }
  await run(['mkdir', path]);
  return 'directory';
}
