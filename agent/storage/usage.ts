// How full the volume pool is and what each volume holds: for GET /api/v1/disk, the node view and
// the nodes subsystem's health (a full pool names the volumes that fill it). The pool's figures
// come from `btrfs filesystem usage -b` where the volumes are on btrfs (statfs cannot tell what
// metadata and reserves take), else from statfs of the directory the volumes are in. The parser is
// pure and tested on captured output; reading goes through the one command runner.
import { statfs } from 'node:fs/promises';
import type { Runner } from '../exec.ts';
import type { VolumeDriver, VolumeRef } from './driver.ts';

export interface PoolUsage {
  /** the file system's size (btrfs: the device size; data and metadata both come out of it) */
  sizeBytes: number;
  usedBytes: number;
  /** what more data can take (btrfs: its own estimate; statfs: what an unprivileged writer gets) */
  freeBytes: number;
}

export interface VolumeUsageRow extends VolumeRef {
  usedBytes: number | null;
  quotaBytes: number | null;
}

const FIELDS = { 'Device size': 'sizeBytes', Used: 'usedBytes', 'Free (estimated)': 'freeBytes' } as const;

/** `btrfs filesystem usage -b PATH`: the "Overall:" block's device size, used and free (estimated). */
export function parseFilesystemUsage(text: string): PoolUsage {
  const found: Partial<PoolUsage> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([A-Za-z() ,]+?):\s+(\d+)\b/.exec(line);
    const field = m && FIELDS[m[1] as keyof typeof FIELDS];
    if (field && found[field] === undefined) found[field] = Number(m[2]);
  }
  for (const name of Object.keys(FIELDS) as (keyof typeof FIELDS)[]) {
    if (found[FIELDS[name]] === undefined) throw new Error(`btrfs filesystem usage: no "${name}" in ${JSON.stringify(text.slice(0, 200))}`);
  }
  return found as PoolUsage;
}

/** The pool (or the file system) holding the driver's volumes at `root`. */
export async function readPoolUsage(driver: Pick<VolumeDriver, 'name'>, root: string, run: Runner): Promise<PoolUsage> {
  if (driver.name === 'btrfs') return parseFilesystemUsage((await run(['btrfs', 'filesystem', 'usage', '-b', root])).stdout);
  const fs = await statfs(root);
  return { sizeBytes: fs.blocks * fs.bsize, usedBytes: (fs.blocks - fs.bfree) * fs.bsize, freeBytes: fs.bavail * fs.bsize };
}

/** Used and limit of each volume (null where it cannot be measured: a volume deleted meanwhile). */
export async function readVolumeUsages(driver: VolumeDriver, refs?: VolumeRef[]): Promise<VolumeUsageRow[]> {
  const rows: VolumeUsageRow[] = [];
  for (const ref of refs ?? (await driver.listVolumes())) {
    const usage = await driver.volumeUsage(ref).catch(() => null);
    rows.push({ ...ref, usedBytes: usage?.usedBytes ?? null, quotaBytes: usage?.quotaBytes ?? null });
  }
  return rows;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Below this much free space the pool counts as full: 5% of it, at least 16 MiB, at most 1 GiB. */
export const fullBelow = (sizeBytes: number): number => Math.min(GiB, Math.max(16 * MiB, Math.floor(sizeBytes * 0.05)));

const human = (bytes: number): string => (bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`);

/**
 * Why the pool counts as full, naming the volumes that hold the most (biggest first, at most 3),
 * or null while it has room. Pure: the health line of the nodes subsystem.
 */
export function poolFullReason(pool: PoolUsage, volumes: VolumeUsageRow[]): string | null {
  if (pool.freeBytes >= fullBelow(pool.sizeBytes)) return null;
  const biggest = volumes
    .filter((v) => v.usedBytes !== null)
    .sort((a, b) => b.usedBytes! - a.usedBytes! || a.node.localeCompare(b.node))
    .slice(0, 3)
    .map((v) => `node ${v.node} volume ${v.volume} uses ${human(v.usedBytes!)}${v.quotaBytes !== null ? ` (limit ${human(v.quotaBytes)})` : ''}`);
  const of = `${human(pool.freeBytes)} free of ${human(pool.sizeBytes)}`;
  return `volume pool full (${of}): ${biggest.length ? biggest.join(', ') : 'no volume holds much; something else fills it'}; writes there fail with ENOSPC`;
}
