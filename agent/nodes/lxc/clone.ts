// Full clones of a template's root filesystem for nodes that cannot live on an overlay (nested
// dockerd fails there). On btrfs, when the cached rootfs is a subvolume, a snapshot takes tens of
// milliseconds; elsewhere `cp -a --reflink=auto` copies (sharing extents where the filesystem can).
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Runner } from '../../exec.ts';

const BTRFS_SUPER_MAGIC = 0x9123683e;
// the root directory of every btrfs subvolume has this inode number
const BTRFS_SUBVOLUME_INODE = 256;

export const isBtrfs = async (path: string): Promise<boolean> => (await statfs(path).catch(() => null))?.type === BTRFS_SUPER_MAGIC;

export async function isBtrfsSubvolume(path: string): Promise<boolean> {
  return (await isBtrfs(path)) && (await stat(path).catch(() => null))?.ino === BTRFS_SUBVOLUME_INODE;
}

export type CloneMethod = 'btrfs-snapshot' | 'copy';

export async function cloneRootfs(run: Runner, source: string, target: string): Promise<CloneMethod> {
  if ((await isBtrfsSubvolume(source)) && (await isBtrfs(dirname(target)))) {
    // a snapshot only works within one filesystem; anything else falls back to a copy
    const snap = await run(['btrfs', 'subvolume', 'snapshot', source, target], { allowFailure: true, timeoutMs: 120_000 });
    if (snap.exitCode === 0) return 'btrfs-snapshot';
  }
  await run(['cp', '-a', '--reflink=auto', source, target], { timeoutMs: 600_000 });
  return 'copy';
}

/** Makes `path` a btrfs subvolume when its parent is on btrfs (so clones can be snapshots), else a directory. */
export async function makeRootfsDir(run: Runner, path: string): Promise<'subvolume' | 'directory'> {
  if (await isBtrfs(dirname(path))) {
    await run(['btrfs', 'subvolume', 'create', path]);
    return 'subvolume';
  }
  await run(['mkdir', path]);
  return 'directory';
}
