// Which volume driver a station runs (storageDriver), on the real file systems: volumes made before
// the storage room are found where they were; auto picks btrfs only where the state directory is on
// btrfs; an explicit btrfs on another file system makes and mounts a loop-backed pool (and reuses
// it at the next start), but refuses while directory volumes would be left behind: the nodes subsystem
// is then off with that reason and the agent runs on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { EventBus } from '../../agent/events.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import { StationError } from '../../agent/errors.ts';
import { isBtrfs, isBtrfsSubvolume } from '../../agent/storage/btrfs-fs.ts';
import { openStorage, type StorageSettings } from '../../agent/storage/select.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

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
async function oldVolume(state: string): Promise<string> {
  const path = join(state, 'volumes', 'web', 'data');
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'kept'), 'from before');
  return path;
}

test('auto on a state directory not on btrfs: plain directories where volumes always were; nothing else made', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return console.log('skipped: the temp directory is on btrfs here');
  const old = await oldVolume(state);
  const opened = await openStorage(settings(state, 'auto'));
  assert.is(opened.driver.name, 'dir');
  assert.is(opened.pool, null);
  assert.match(opened.reason, /not on btrfs/);
  assert.equal(await opened.driver.listVolumes(), [{ node: 'web', volume: 'data' }]);
  assert.is(opened.driver.mountSource({ node: 'web', volume: 'data' }), old, 'the same path a node mounted before');
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before');
  assert.equal((await readdir(state)).sort(), ['volumes'], 'no pool, no other directory');
  assert.is((await openStorage(settings(state, 'dir'))).driver.name, 'dir');
});

test('btrfs on a state directory not on btrfs: refused while directory volumes are there (nothing made or moved)', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  const old = await oldVolume(state);
  testPool(join(state, 'storage'), 'pool', 256 * MiB); // only so that a pool made by mistake goes at cleanup
  let error: unknown;
  await openStorage(settings(state, 'btrfs')).catch((e: unknown) => {
    error = e;
  });
  assert.instance(error, StationError);
  assert.is((error as StationError).code, 'STORAGE_DIR_VOLUMES');
  assert.match((error as Error).message, /web\/data/);
  assert.equal((await readdir(state)).sort(), ['volumes'], 'no pool file was made');
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before');
});

test('the nodes subsystem with a storage choice that cannot work is off with the reason (the agent runs on)', async () => {
  const state = await stateDir();
  if (await isBtrfs(state)) return;
  await oldVolume(state);
  testPool(join(state, 'storage'), 'pool', 256 * MiB); // only so that a pool made by mistake goes at cleanup
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
      ...settings(state, 'btrfs'),
    },
    driver: new LxcDriver({ lxcPath, templateCache: join(state, 'templates'), run: exec, log }),
    events: new EventBus(),
    log,
  });
  await nodes.start();
  const health = nodes.health();
  assert.is(health.state, 'off');
  assert.match(health.reason ?? '', /node volumes cannot be stored: .*web\/data.*keep storageDriver dir/);
  let code = '';
  try {
    nodes.actions();
  } catch (error) {
    code = (error as StationError).code;
  }
  assert.is(code, 'NODES_UNAVAILABLE', 'the node routes answer 503');
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

test('auto on a state directory on btrfs: subvolumes at stateDir/volumes; a directory volume from before is still found', async () => {
  const pool = testPool(dir, 'host', 256 * MiB); // stands for a station whose disk is btrfs
  await pool.ensure();
  const state = await stateDir(pool.mountPoint);
  const old = await oldVolume(state);
  const opened = await openStorage(settings(state, 'auto'));
  assert.is(opened.driver.name, 'btrfs');
  assert.is(opened.pool, null, 'no pool file: the disk itself is btrfs');
  assert.match(opened.reason, /state directory is on btrfs/);
  assert.is(opened.driver.mountSource({ node: 'web', volume: 'data' }), old, 'the same path a node mounted before');
  await opened.driver.createVolume({ node: 'web', volume: 'logs' });
  assert.equal(await opened.driver.listVolumes('web'), [
    { node: 'web', volume: 'data' },
    { node: 'web', volume: 'logs' },
  ]);
  assert.ok(await isBtrfsSubvolume(join(state, 'volumes', 'web', 'logs')), 'a new volume is a subvolume');
  assert.not.ok(await isBtrfsSubvolume(old), 'the old one stays a directory, data in place');
  assert.is(await readFile(join(old, 'kept'), 'utf8'), 'from before');
  await opened.driver.deleteVolume({ node: 'web', volume: 'data' });
  assert.equal(await opened.driver.listVolumes('web'), [{ node: 'web', volume: 'logs' }], 'and deleted like any other');
});

test.run();
