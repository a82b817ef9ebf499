// Which volume driver a station runs (storageDriver), on the real file systems: auto (the default)
// puts volumes on btrfs subvolumes: on the state directory's btrfs, else on a loop-backed pool it
// makes, mounts and reuses; directory volumes from before move into subvolumes on the way; plain
// directories only where btrfs cannot work (the reason said), and never while a pool that exists
// cannot be mounted (the nodes subsystem is then off with the reason and the agent runs on).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec, type Runner } from '../../agent/exec.ts';
import { EventBus } from '../../agent/events.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import { StationError } from '../../agent/errors.ts';
import { isBtrfs, isBtrfsSubvolume } from '../../agent/storage/btrfs-fs.ts';
import { openStorage, type StorageSettings } from '../../agent/storage/select.ts';
import { VolumePool } from '../../agent/storage/volume-pool.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { rejectsWith } from '../helpers/rejects.ts';

const MiB = 1024 * 1024;
let dir: string;
let count = 0;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-select-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
});
test.after(async () => {
  await cleanupAll();
});

async function stateDir(parent = dir): Promise<string> {
  const path = join(parent, `state${count++}`);
  await mkdir(path);
  return path;
}

const settings = (state: string, storageDriver: StorageSettings['storageDriver'], sizeMb = 256): StorageSettings => ({
  stateDir: state,
  storageDriver,
  storagePoolFile: join(state, 'storage', 'pool.img'),
  storagePoolSizeMb: sizeMb,
});

/** A volume as the agent left it before the storage room: a directory at stateDir/volumes/<node>/<volume>. */
async function oldVolume(state: string, node = 'web'): Promise<string> {
  const path = join(state, 'volumes', node, 'data');
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'kept'), 'from before');
  return path;
}

/** The pool's cleanup, registered before anything may make it (the same file and mount point as the agent's). */
const poolCleanup = (state: string) => testPool(join(state, 'storage'), 'pool', 256 * MiB);

/** A runner on which btrfs-progs are not installed: `btrfs` is looked up where it is not (a real ENOENT). */
const withoutBtrfsProgs: Runner = (argv, options) => exec(argv[0] === 'btrfs' ? ['/nonexistent/btrfs', ...argv.slice(1)] : argv, options);

test('auto on a state directory not on btrfs: a pool is made and mounted, the directory volume moved into it', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return console.log('skipped: the temp directory is on btrfs here');
  const pool = poolCleanup(state);
  const old = await oldVolume(state);
  const opened = await openStorage(settings(state, 'auto'));
  assert.is(opened.driver.name, 'btrfs');
  assert.ok(opened.pool, 'a pool');
  assert.match(opened.reason, /on the pool .*pool\.img \(256 MiB\)/);
  assert.equal(opened.migrated, [{ node: 'web', volume: 'data' }]);
  const source = opened.driver.mountSource({ node: 'web', volume: 'data' });
  assert.is(source, join(pool.mountPoint, 'volumes', 'web', 'data'));
  assert.ok(await isBtrfsSubvolume(source), 'now a subvolume on the pool');
  assert.is(await readFile(join(source, 'kept'), 'utf8'), 'from before');
  assert.not.ok(await stat(old).catch(() => null), 'the old directory is gone once its copy is in place');
  assert.equal((await readdir(state)).sort(), ['storage'], 'stateDir/volumes removed once empty');
  // the next start: the same pool, nothing to move
  const again = await openStorage(settings(state, 'auto'));
  assert.equal(again.migrated, []);
  assert.equal(await again.driver.listVolumes(), [{ node: 'web', volume: 'data' }]);
});

test('auto without btrfs-progs: plain directories where volumes always were, the reason said, nothing made', async () => {
  const state = await stateDir();
  const old = await oldVolume(state);
  poolCleanup(state);
  const opened = await openStorage(settings(state, 'auto'), withoutBtrfsProgs);
  assert.is(opened.driver.name, 'dir');
  assert.match(opened.reason, /auto: btrfs-progs do not work here/);
  assert.is(opened.driver.mountSource({ node: 'web', volume: 'data' }), old, 'the same path a node mounted before');
  assert.equal((await readdir(state)).sort(), ['volumes'], 'no pool, no other directory');
  const error = await rejectsWith(openStorage(settings(state, 'btrfs'), withoutBtrfsProgs), StationError);
  assert.is(error.code, 'STORAGE_UNAVAILABLE', 'an explicit btrfs that cannot work is an error');
  // a pool made before (volumes may be in it): no fallback to directories without them
  await mkdir(join(state, 'storage'));
  await writeFile(join(state, 'storage', 'pool.img'), 'a pool file');
  const kept = await rejectsWith(openStorage(settings(state, 'auto'), withoutBtrfsProgs), StationError);
  assert.is(kept.code, 'STORAGE_UNAVAILABLE');
  assert.match(kept.message, /btrfs-progs do not work here .*and the pool file .*pool\.img \(which may hold volumes\) cannot be used/);
});

test('auto where no pool can be made: plain directories, the reason said, no pool file left behind', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  await oldVolume(state);
  poolCleanup(state);
  // the pool file's directory is a regular file: mkdir fails for real, as on a read-only disk
  await writeFile(join(state, 'storage'), 'not a directory');
  const opened = await openStorage(settings(state, 'auto'));
  assert.is(opened.driver.name, 'dir');
  assert.match(opened.reason, /auto: the btrfs pool .*pool\.img cannot be used/);
  assert.is(await readFile(join(state, 'volumes', 'web', 'data', 'kept'), 'utf8'), 'from before');
});

test('a pool file that exists but cannot be mounted: refused, never empty directories instead (nothing moved)', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  const old = await oldVolume(state);
  poolCleanup(state);
  await mkdir(join(state, 'storage'));
  await writeFile(join(state, 'storage', 'pool.img'), Buffer.alloc(200 * MiB)); // not a file system
  const error = await rejectsWith(openStorage(settings(state, 'auto')), StationError);
  assert.is(error.code, 'STORAGE_UNAVAILABLE');
  assert.match(error.message, /pool\.img cannot be used/);
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before');
  assert.is((await stat(join(state, 'storage', 'pool.img'))).size, 200 * MiB, 'the pool file is left as it is');
  const dirError = await rejectsWith(openStorage(settings(state, 'dir')), StationError);
  assert.is(dirError.code, 'STORAGE_POOL_IN_USE', 'dir would not find volumes that may be in the pool');
});

test('a volume both in a directory and on the pool: the nodes subsystem is off with the reason (the agent runs on)', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  const pool = poolCleanup(state);
  await openStorage(settings(state, 'auto')); // makes the pool
  await mkdir(join(pool.mountPoint, 'volumes', 'web', 'data'), { recursive: true });
  const old = await oldVolume(state);
  const log = pino({ level: 'silent' });
  const lxcPath = join(state, 'lxc');
  const nodes = new NodesSubsystem({
    config: {
      lxcPath,
      bridge: 'stnobr0',
      nodeSubnet: '198.18.62.0/24',
      name: 'test',
      domain: 'mesh.internal',
      reconcileSeconds: 10,
      ...settings(state, 'auto'),
    },
    driver: new LxcDriver({ lxcPath, templateCache: join(state, 'templates'), run: exec, log }),
    events: new EventBus(),
    log,
  });
  await nodes.start();
  const health = nodes.health();
  assert.is(health.state, 'off');
  assert.match(health.reason ?? '', /node volumes cannot be stored: volume web\/data is both a directory .* and on the pool/);
  let code = '';
  try {
    nodes.actions();
  } catch (error) {
    code = (error as StationError).code;
  }
  assert.is(code, 'NODES_UNAVAILABLE', 'the node routes answer 503');
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before', 'nothing changed');
  await nodes.stop();
});

test('btrfs elsewhere: a loop-backed pool is made, mounted and reused; volumes are subvolumes with quotas', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  const pool = testPool(join(state, 'storage'), 'pool', 256 * MiB); // the same file and mount point: its cleanup
  const opened = await openStorage(settings(state, 'btrfs'));
  assert.is(opened.driver.name, 'btrfs');
  assert.ok(opened.pool, 'a pool');
  const status = await opened.pool!.status();
  assert.ok(status.mounted && status.device?.startsWith('/dev/loop'), JSON.stringify(status));
  assert.is(status.sizeBytes, 256 * MiB);
  assert.is(opened.pool!.file, pool.file);
  const ref = { node: 'web', volume: 'data' };
  await opened.driver.createVolume(ref, { quotaBytes: 64 * MiB });
  const source = opened.driver.mountSource(ref);
  assert.is(source, join(pool.mountPoint, 'volumes', 'web', 'data'));
  assert.ok(await isBtrfsSubvolume(source));
  assert.is((await opened.driver.volumeUsage(ref)).quotaBytes, 64 * MiB);
  // the next start: the same pool, as it is (a bigger configured size does not grow it)
  const again = await openStorage(settings(state, 'btrfs', 512));
  assert.is((await again.pool!.status()).device, status.device, 'reused, not mounted twice');
  assert.is((await stat(pool.file)).size, 256 * MiB);
  assert.equal(await again.driver.listVolumes(), [ref]);
});

test('auto where the directory volumes do not fit a new pool: plain directories, the reason said, the pool removed', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  const old = await oldVolume(state);
  await exec(['sh', '-c', 'head -c 150M /dev/zero > "$1/big"', 'sh', old]);
  const pool = poolCleanup(state);
  const opened = await openStorage(settings(state, 'auto', 128));
  assert.is(opened.driver.name, 'dir');
  assert.match(opened.reason, /auto: 1 directory volumes take 150 MiB, more than the pool's \d+ MiB free .*storagePoolSizeMb larger/);
  assert.is((await pool.status()).mounted, false, 'the pool made for nothing is unmounted');
  assert.equal(await readdir(join(state, 'storage')).catch(() => []), [], 'and its file removed: the next start tries afresh');
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before');
});

test('the pool grows on request and reports its size; a bad size or plain directories are refused', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  poolCleanup(state);
  const volumes = new VolumePool(await openStorage(settings(state, 'auto', 256)), exec);
  const before = await volumes.usage();
  assert.is(before.sizeBytes, 256 * MiB);
  const grown = await volumes.grow(384);
  assert.is(grown.sizeBytes, 384 * MiB);
  assert.ok(grown.freeBytes > before.freeBytes + 100 * MiB, `free space grew: ${before.freeBytes} -> ${grown.freeBytes}`);
  assert.is((await rejectsWith(volumes.grow(256), StationError)).code, 'POOL_SHRINK');
  assert.is((await rejectsWith(volumes.grow(1.5), StationError)).code, 'INVALID_POOL_SIZE');
  const plain = new VolumePool(await openStorage(settings(await stateDir(), 'dir')), exec);
  assert.is((await rejectsWith(plain.grow(512), StationError)).code, 'POOL_NOT_GROWABLE');
  assert.ok((await plain.usage()).sizeBytes > 0, 'plain directories report their file system');
});

test('auto on a state directory on btrfs: subvolumes at stateDir/volumes; a directory volume from before becomes one in place', async () => {
  const pool = testPool(dir, 'host', 256 * MiB); // stands for a station whose disk is btrfs
  await pool.ensure();
  const state = await stateDir(pool.mountPoint);
  const old = await oldVolume(state);
  const opened = await openStorage(settings(state, 'auto'));
  assert.is(opened.driver.name, 'btrfs');
  assert.is(opened.pool, null, 'no pool file: the disk itself is btrfs');
  assert.match(opened.reason, /state directory is on btrfs/);
  assert.equal(opened.migrated, [{ node: 'web', volume: 'data' }]);
  assert.is(opened.driver.mountSource({ node: 'web', volume: 'data' }), old, 'the same path a node mounted before');
  assert.ok(await isBtrfsSubvolume(old), 'now a subvolume, at the same path');
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before');
  assert.equal((await readdir(join(state, 'volumes', 'web'))).sort(), ['data'], 'no staging or retired copy left');
  await opened.driver.setVolumeQuota({ node: 'web', volume: 'data' }, 64 * MiB);
  assert.is((await opened.driver.volumeUsage({ node: 'web', volume: 'data' })).quotaBytes, 64 * MiB, 'so it can have a limit');
});

test.run();
