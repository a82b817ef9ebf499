// The loop-backed btrfs pool on the real engine: a sparse file, formatted once, mounted with a
// loop device, quotas on; reused after a restart, grown on request, never shrunk, and a foreign
// mount at its mount point left alone. Everything in a per-run temp directory, removed at the end.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { StationError } from '../../agent/errors.ts';
import { LoopPool } from '../../agent/storage/pool.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { rejectsWith } from '../helpers/rejects.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
let dir: string;
let poolA: LoopPool;

const rejection = (promise: Promise<unknown>) => rejectsWith(promise, StationError);

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-pool-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  poolA = testPool(dir, 'a', 1 * GiB);
  await poolA.ensure();
});
test.after(async () => {
  await cleanupAll();
});

test('the pool: a sparse file mounted as btrfs with quotas; ensure again reuses it; it grows, never shrinks', async () => {
  const first = await poolA.status();
  assert.ok(first.mounted && first.device?.startsWith('/dev/loop'), `mounted from ${first.device}`);
  assert.is(first.sizeBytes, 1 * GiB);
  assert.ok((await stat(poolA.file)).blocks * 512 < 100 * MiB, 'the file takes only what is written');
  const again = await poolA.ensure();
  assert.is(again.created, false);
  assert.is(again.device, first.device, 'the same loop device: reused, not mounted twice');
  const before = (await statfs(poolA.mountPoint)).blocks * (await statfs(poolA.mountPoint)).bsize;
  await poolA.grow(1.5 * GiB);
  const fs = await statfs(poolA.mountPoint);
  assert.ok(fs.blocks * fs.bsize > before + 400 * MiB, `the file system grew from ${before} to ${fs.blocks * fs.bsize}`);
  assert.is((await rejection(poolA.grow(1 * GiB))).code, 'POOL_SHRINK');
  const tiny = new LoopPool({ file: join(dir, 'tiny.img'), mountPoint: join(dir, 'tiny'), sizeBytes: 10 * MiB });
  assert.is((await rejection(tiny.ensure())).code, 'INVALID_POOL_SIZE');
  assert.not.ok(
    (await readdir(dir)).some((f) => f.startsWith('tiny')),
    'a bad size makes nothing',
  );
});

test('the pool after a restart: an existing pool file is mounted as it is (data kept, no mkfs); a foreign mount is left alone', async () => {
  const pool = testPool(dir, 'c', 256 * MiB);
  assert.is((await pool.ensure()).created, true);
  writeFileSync(join(pool.mountPoint, 'kept'), 'still here');
  await pool.unmount();
  assert.is((await pool.status()).mounted, false);
  const again = await pool.ensure();
  assert.is(again.created, false);
  assert.is(readFileSync(join(pool.mountPoint, 'kept'), 'utf8'), 'still here');
  await pool.unmount();
  // something else mounted at the mount point: refused, nothing made or unmounted
  const busy = join(dir, 'busy');
  await mkdir(busy);
  await exec(['mount', '-t', 'tmpfs', '-o', 'size=1m', `${RUN_PREFIX}-tmpfs`, busy]);
  onCleanup(`tmpfs ${busy}`, () => exec(['umount', busy], { allowFailure: true }));
  const foreign = new LoopPool({ file: join(dir, 'foreign.img'), mountPoint: busy, sizeBytes: 256 * MiB });
  const error = await rejection(foreign.ensure());
  assert.is(error.code, 'POOL_MOUNT_POINT_BUSY');
  assert.match(error.message, /tmpfs/);
  assert.not.ok((await readdir(dir)).includes('foreign.img'), 'no pool file was made');
  await exec(['umount', busy]);
});

test.run();
