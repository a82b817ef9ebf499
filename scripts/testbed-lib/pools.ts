// Btrfs volume pools for testbed stations that ask for them (`up --storage btrfs`): the pool file and
// mount point the agent uses by default (STATE/storage/pool.img at STATE/storage/pool), made and
// mounted here, in the machine's mount namespace, before the agent starts. The agent runs under
// `ip netns exec`, whose mount namespace is its own: a pool it mounted itself would be invisible to
// the agent after a restart and would go only with its last process. Mounted here, every agent of
// the station finds it mounted and uses it as it is, and `down` unmounts it and frees its loop device.
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { LoopPool } from '../../agent/storage/pool.ts';

const MiB = 1024 * 1024;
export const DEFAULT_POOL_MB = 512;

const poolOf = (stateDir: string, sizeMb: number, label = 'station-pool'): LoopPool =>
  new LoopPool({ file: join(stateDir, 'storage', 'pool.img'), mountPoint: join(stateDir, 'storage', 'pool'), sizeBytes: sizeMb * MiB, label });

/** The agent's environment for a pool-backed station; the pool is made and mounted first. */
export async function mountStationPool(stateDir: string, sizeMb: number, label: string): Promise<Record<string, string>> {
  await poolOf(stateDir, sizeMb, label).ensure();
  return { STATION_STORAGE_DRIVER: 'btrfs', STATION_STORAGE_POOL_SIZE_MB: String(sizeMb) };
}

/** Unmounts a station's pool (lazily if something still holds it) and detaches its loop devices; a no-op without one. */
export async function unmountStationPool(stateDir: string): Promise<void> {
  const pool = poolOf(stateDir, DEFAULT_POOL_MB);
  if ((await exec(['umount', pool.mountPoint], { allowFailure: true })).exitCode !== 0) await exec(['umount', '-l', pool.mountPoint], { allowFailure: true });
  const listed = await exec(['losetup', '-j', pool.file], { allowFailure: true });
  for (const line of listed.stdout.split('\n').filter(Boolean)) await exec(['losetup', '-d', line.split(':')[0]!], { allowFailure: true });
}
