// A LoopPool for a test, in the test's own directory, with a cleanup that unmounts it (lazily when
// something still holds it, so the loop device goes once that lets go) and detaches its loop devices
// even when the test fails. Loop devices cannot carry a name: they are found by their backing file,
// whose name carries the run prefix.
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { LoopPool } from '../../agent/storage/pool.ts';
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
