// The btrfs volume driver on the real engine: two pools (sparse files, loop devices, btrfs with
// quotas) made by LoopPool in a per-run temp directory, unmounted, detached and removed even when
// a test fails. Pool b plays another station receiving streams. The pool itself: storage-pool.test.ts.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { exec, type Runner } from '../../agent/exec.ts';
import { StationError } from '../../agent/errors.ts';
import { BtrfsVolumeDriver } from '../../agent/storage/btrfs-driver.ts';
import type { LoopPool } from '../../agent/storage/pool.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { btrfsDriverPool } from '../helpers/loop-pool.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { rejectsWith } from '../helpers/rejects.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
let dir: string;
let poolA: LoopPool;
let poolB: LoopPool;
let a: BtrfsVolumeDriver;
let b: BtrfsVolumeDriver;

const rejection = (promise: Promise<unknown>) => rejectsWith(promise, StationError);

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const sync = (path: string) => exec(['btrfs', 'filesystem', 'sync', path]);

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-storage-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  ({ pool: poolA, driver: a } = await btrfsDriverPool(dir, 'a', 1 * GiB));
  ({ pool: poolB, driver: b } = await btrfsDriverPool(dir, 'b', 1 * GiB));
});
test.after(async () => {
  await cleanupAll();
});

test('a volume with a quota: a write beyond it fails with EDQUOT/ENOSPC while the pool has room; usage is reported', async () => {
  const ref = { node: 'web', volume: 'data' };
  assert.is((await a.capability()).available, true);
  await a.createVolume(ref, { quotaBytes: 64 * MiB });
  const path = a.mountSource(ref);
  assert.is(path, join(poolA.mountPoint, 'volumes', 'web', 'data'));
  const chunk = Buffer.alloc(MiB, 0x5a);
  let written = 0;
  let failure: NodeJS.ErrnoException | null = null;
  const fd = openSync(join(path, 'fill'), 'w');
  try {
    for (let i = 0; i < 200; i++) {
      writeSync(fd, chunk);
      written += MiB;
    }
  } catch (error) {
    failure = error as NodeJS.ErrnoException;
  } finally {
    closeSync(fd);
  }
  const free = await statfs(poolA.mountPoint);
  const freeMiB = Math.round((free.bavail * free.bsize) / MiB);
  console.log(`  quota 64 MiB: the write stopped after ${written / MiB} MiB with ${failure?.code} (errno ${failure?.errno}); pool free ${freeMiB} MiB`);
  // libuv has no name for EDQUOT: Node reports it as code UNKNOWN with errno -122 (EDQUOT on Linux)
  const edquot = failure?.code === 'EDQUOT' || failure?.errno === -122;
  assert.ok(failure && (edquot || failure.code === 'ENOSPC'), `the write failed with ${failure?.code} ${failure?.errno}`);
  assert.ok(written <= 64 * MiB && written >= 48 * MiB, `stopped near the limit (${written / MiB} MiB)`);
  assert.ok(free.bavail * free.bsize > 500 * MiB, 'the pool itself still had room');
  await sync(path);
  const usage = await a.volumeUsage(ref);
  assert.is(usage.quotaBytes, 64 * MiB);
  assert.ok(Math.abs(usage.usedBytes - written) < 2 * MiB, `usage ${usage.usedBytes} matches the ${written} bytes written`);
  await a.setVolumeQuota(ref, null);
  assert.is((await a.volumeUsage(ref)).quotaBytes, null);
  await a.setVolumeQuota(ref, 64 * MiB);
});

test('read-only snapshots with sizes; rollback keeps the quota; a snapshot opened as a new volume', async () => {
  const ref = { node: 'app', volume: 'state' };
  await a.createVolume(ref, { quotaBytes: 128 * MiB });
  const path = a.mountSource(ref);
  writeFileSync(join(path, 'note'), 'version 1');
  writeFileSync(join(path, 'blob'), Buffer.alloc(8 * MiB, 1));
  await a.createSnapshot(ref, 's1');
  assert.is((await rejection(a.createSnapshot(ref, 's1'))).code, 'SNAPSHOT_EXISTS');
  const snapshotPath = join(poolA.mountPoint, 'volumes', '.snapshots', 'app', 'state', 's1');
  assert.throws(
    () => writeFileSync(join(snapshotPath, 'note'), 'changed'),
    (e: NodeJS.ErrnoException) => e.code === 'EROFS',
  );
  writeFileSync(join(path, 'note'), 'version 2');
  writeFileSync(join(path, 'extra'), Buffer.alloc(4 * MiB, 2));
  await sync(path);
  const [s1] = await a.listSnapshots(ref);
  assert.is(s1?.name, 's1');
  assert.ok(s1!.referencedBytes >= 8 * MiB && s1!.referencedBytes < 9 * MiB, `s1 references ${s1!.referencedBytes}`);
  assert.ok(Math.abs(Date.parse(s1!.createdAt) - Date.now()) < 600_000);

  await a.restoreSnapshot(ref, 's1');
  assert.is(readFileSync(join(path, 'note'), 'utf8'), 'version 1', 'rolled back');
  assert.equal((await readdir(path)).sort(), ['blob', 'note']);
  assert.is((await a.volumeUsage(ref)).quotaBytes, 128 * MiB, 'the quota stayed');
  assert.equal(await readdir(join(poolA.mountPoint, 'volumes', 'app')), ['state'], 'no leftovers of the swap');

  const copy = { node: 'app', volume: 'copy' };
  await a.volumeFromSnapshot(ref, 's1', copy, { quotaBytes: 32 * MiB });
  writeFileSync(join(a.mountSource(copy), 'note'), 'the copy is writable');
  assert.is(readFileSync(join(path, 'note'), 'utf8'), 'version 1', 'and independent of the volume');
  assert.is((await a.volumeUsage(copy)).quotaBytes, 32 * MiB);
  assert.is((await rejection(a.volumeFromSnapshot(ref, 's1', copy))).code, 'VOLUME_EXISTS');
  assert.is((await rejection(a.restoreSnapshot(ref, 'nope'))).code, 'SNAPSHOT_NOT_FOUND');
  await a.deleteSnapshot(ref, 's1');
  assert.equal(await a.listSnapshots(ref), []);
});

test('send/receive: a full stream, then an incremental one, into another pool; contents equal, read-only', async () => {
  const ref = { node: 'db', volume: 'main' };
  await a.createVolume(ref);
  const path = a.mountSource(ref);
  writeFileSync(join(path, 'base'), Buffer.alloc(3 * MiB, 3));
  await a.createSnapshot(ref, 's1');
  writeFileSync(join(path, 'later'), 'written after s1');
  await a.createSnapshot(ref, 's2');

  const full = counted();
  const [, got1] = await Promise.all([a.sendSnapshot(ref, 's1', full.stream), b.receiveSnapshot(ref, full.stream)]);
  const inc = counted();
  const [, got2] = await Promise.all([a.sendSnapshot(ref, 's2', inc.stream, { parent: 's1' }), b.receiveSnapshot(ref, inc.stream)]);
  const [fullBytes, incBytes] = [full.bytes(), inc.bytes()];
  console.log(`  full stream ${fullBytes} bytes, incremental ${incBytes} bytes`);
  assert.equal([got1, got2], [{ snapshot: 's1' }, { snapshot: 's2' }]);
  assert.ok(incBytes < 100_000, 'the incremental stream carries the change, not the 3 MiB base');
  assert.equal(
    (await b.listSnapshots(ref)).map((s) => s.name),
    ['s1', 's2'],
  );
  const there = join(b.mountSource(ref), '..', '..', '.snapshots', 'db', 'main', 's2');
  assert.is(sha(join(there, 'base')), sha(join(path, 'base')));
  assert.is(readFileSync(join(there, 'later'), 'utf8'), 'written after s1');
  assert.throws(
    () => writeFileSync(join(there, 'later'), 'x'),
    (e: NodeJS.ErrnoException) => e.code === 'EROFS',
  );
  // the receiving station opens it as its own volume
  await b.volumeFromSnapshot(ref, 's2', ref);
  assert.is(readFileSync(join(b.mountSource(ref), 'later'), 'utf8'), 'written after s1');
  assert.is((await rejection(b.receiveSnapshot(ref, await streamOf(a, ref, 's1')))).code, 'SNAPSHOT_EXISTS');
});

/** A pass-through that counts what flows (without starting the flow before the receiver reads). */
function counted(): { stream: Transform; bytes: () => number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, bytes: () => bytes };
}

async function streamOf(driver: BtrfsVolumeDriver, ref: { node: string; volume: string }, name: string, parent?: string): Promise<PassThrough> {
  const stream = new PassThrough();
  void driver.sendSnapshot(ref, name, stream, parent ? { parent } : {}).catch(() => {});
  return stream;
}

test('a cut-off stream or a missing parent: a clear error and nothing left behind', async () => {
  const ref = { node: 'cut', volume: 'v' };
  await a.createVolume(ref);
  writeFileSync(join(a.mountSource(ref), 'big'), Buffer.alloc(4 * MiB, 9));
  await a.createSnapshot(ref, 's1');
  writeFileSync(join(a.mountSource(ref), 'small'), 'x');
  await a.createSnapshot(ref, 's2');
  // the peer hangs up after 200 kB: the receiver's input fails
  let seen = 0;
  const cutter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > 200_000) done(new Error('peer hung up'));
      else done(null, chunk);
    },
  });
  const sent = new PassThrough();
  // a peer that hangs up closes the connection: the sender's side of it goes too
  cutter.once('error', () => sent.destroy());
  void a.sendSnapshot(ref, 's1', sent).catch(() => {});
  const error = await rejection(b.receiveSnapshot(ref, sent.pipe(cutter)));
  assert.match(error.message, /peer hung up|short read/);
  assert.equal(await b.listSnapshots(ref), []);
  assert.equal(await readdir(join(b.mountSource(ref), '..', '..', '.snapshots', 'cut', 'v')), [], 'the partial subvolume was deleted');
  const missing = await rejection(b.receiveSnapshot(ref, await streamOf(a, ref, 's2', 's1')));
  assert.is(missing.code, 'SNAPSHOT_PARENT_MISSING');
  assert.equal(await b.listSnapshots(ref), []);
});

test("a stream that names another volume's snapshot as its parent is refused and leaves nothing", async () => {
  // pool b holds another owner's volume (received from a); a peer knows its snapshot's UUID and sends
  // "the changes since that snapshot" for its own volume: received as is, b would copy the other
  // volume's data into the peer's volume, to be opened or sent back to the peer later.
  const secret = { node: 'secret', volume: 'v' };
  const mine = { node: 'mine', volume: 'v' };
  await a.createVolume(secret);
  writeFileSync(join(a.mountSource(secret), 'diary'), 'not for the neighbours');
  await a.createSnapshot(secret, 's1');
  await b.receiveSnapshot(secret, await streamOf(a, secret, 's1'));
  await a.createVolume(mine);
  await a.createSnapshot(mine, 'm1');
  const crafted = new PassThrough();
  const snapshots = join(poolA.mountPoint, 'volumes', '.snapshots');
  void exec(['btrfs', 'send', '-q', '-p', join(snapshots, 'secret', 'v', 's1'), join(snapshots, 'mine', 'v', 'm1')], {
    stdoutStream: crafted,
  }).catch(() => {});
  const error = await rejection(b.receiveSnapshot(mine, crafted));
  assert.is(error.code, 'INVALID_SNAPSHOT_STREAM');
  assert.match(error.message, /parent .* not a snapshot of mine\/v/);
  assert.equal(await b.listSnapshots(mine), []);
  assert.equal(await readdir(join(poolB.mountPoint, 'volumes', '.snapshots', 'mine', 'v')), [], 'nothing of it is left');
});

test('deleting a volume removes its snapshots and subvolumes a node made inside it', async () => {
  const ref = { node: 'nest', volume: 'v' };
  await a.createVolume(ref);
  await exec(['btrfs', 'subvolume', 'create', join(a.mountSource(ref), 'inner')]);
  await mkdir(join(a.mountSource(ref), 'inner', 'deeper'));
  await exec(['btrfs', 'subvolume', 'create', join(a.mountSource(ref), 'inner', 'deeper', 'sub')]);
  await a.createSnapshot(ref, 'keep-me-not');
  await a.deleteVolume(ref);
  assert.not.ok(await a.volumeExists(ref));
  const left = (await exec(['btrfs', 'subvolume', 'list', poolA.mountPoint])).stdout;
  assert.not.match(left, /nest/, 'no subvolume of the node is left');
});

test('a rollback cut short by a crash is finished or undone at prepare', async () => {
  const ref = { node: 'crash', volume: 'v' };
  await a.createVolume(ref);
  writeFileSync(join(a.mountSource(ref), 'f'), 'old');
  await a.createSnapshot(ref, 's1');
  const nodeDir = join(poolA.mountPoint, 'volumes', 'crash');
  // as if the agent died between "volume -> .old-v" and ".restore-v -> volume"
  await exec(['btrfs', 'subvolume', 'snapshot', join(poolA.mountPoint, 'volumes', '.snapshots', 'crash', 'v', 's1'), join(nodeDir, '.restore-v')]);
  await exec(['mv', a.mountSource(ref), join(nodeDir, '.old-v')]);
  assert.not.ok(await a.volumeExists(ref));
  await a.prepare();
  assert.is(readFileSync(join(a.mountSource(ref), 'f'), 'utf8'), 'old', 'the volume is back');
  assert.equal(await readdir(nodeDir), ['v']);
});

test('capability: unavailable with a reason when btrfs-progs are missing or the root is not btrfs', async () => {
  // a runner whose PATH has no btrfs: the real spawn fails with ENOENT, as on a machine without btrfs-progs
  const noBtrfs: Runner = (argv, options = {}) => exec(argv, { ...options, env: { ...options.env, PATH: '/nonexistent' } });
  const missing = await new BtrfsVolumeDriver({ root: join(poolA.mountPoint, 'volumes'), run: noBtrfs }).capability();
  assert.is(missing.available, false);
  assert.match(missing.reason, /btrfs-progs are not installed .*ENOENT/);
  const elsewhere = await new BtrfsVolumeDriver({ root: join(dir, 'not-btrfs', 'volumes') }).capability();
  assert.is(elsewhere.available, false);
  assert.match(elsewhere.reason, /not on a btrfs file system/);
});

test.run();
