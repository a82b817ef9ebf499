// A LoopPool for a test, in the test's own directory, with a cleanup that unmounts it (lazily when
// something still holds it, so the loop device goes once that lets go) and detaches its loop devices
// even when the test fails. Loop devices cannot carry a name: they are found by their backing file,
// whose name carries the run prefix.
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { LoopPool } from '../../agent/storage/pool.ts';
import { BtrfsVolumeDriver } from '../../agent/storage/btrfs-driver.ts';
import { onCleanup } from './cleanup.ts';
import { RUN_PREFIX } from './run-prefix.ts';

export function testPool(dir: string, name: string, sizeBytes: number): LoopPool {
  const pool = new LoopPool({ file: join(dir, `${name}.img`), mountPoint: join(dir, name), sizeBytes, label: `${RUN_PREFIX}-${name}` });
  onCleanup(`pool ${name}`, async () => {
    if ((await exec(['umount', pool.mountPoint], { allowFailure: true })).exitCode !== 0) await exec(['umount', '-l', pool.mountPoint], { allowFailure: true });
    const listed = await exec(['losetup', '-j', pool.file], { allowFailure: true });
    for (const line of listed.stdout.split('\n').filter(Boolean)) await exec(['losetup', '-d', line.split(':')[0]!], { allowFailure: true });
  });
  return pool;
}

/**
 * The pool a station with `storage: 'btrfs'` uses, where the agent looks for it by default
 * (STATE/storage/pool.img mounted at STATE/storage/pool), made and mounted by the test first: an
 * agent run under `ip netns exec` has a mount namespace of its own, so a pool it mounted itself
 * would outlive the test unseen. Returns the agent's environment for it; cleanup unmounts it.
 */
export async function stationPool(stateDir: string, sizeMb = 512): Promise<{ pool: LoopPool; env: Record<string, string> }> {
  const pool = testPool(join(stateDir, 'storage'), 'pool', sizeMb * 1024 * 1024);
  await pool.ensure();
  return { pool, env: { STATION_STORAGE_DRIVER: 'btrfs', STATION_STORAGE_POOL_SIZE_MB: String(sizeMb) } };
}

/** A mounted test pool with a prepared btrfs volume driver on it (volumes under <pool>/volumes). */
export async function btrfsDriverPool(dir: string, name: string, sizeBytes: number): Promise<{ pool: LoopPool; driver: BtrfsVolumeDriver }> {
  const pool = testPool(dir, name, sizeBytes);
  await pool.ensure();
  const driver = new BtrfsVolumeDriver({ root: join(pool.mountPoint, 'volumes') });
  await driver.prepare();
  return { pool, driver };
}
