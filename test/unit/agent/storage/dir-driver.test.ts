// The dir driver is today's behaviour: volumes at stateDir/volumes/<node>/<volume>, so the volumes
// made before the storage room are found after the switch. What it does not offer (quotas,
// snapshots, send/receive) is a clear UnavailableError, and bad names change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DirVolumeDriver } from '../../../../agent/storage/dir-driver.ts';
import { deleteNodeVolumes } from '../../../../agent/storage/driver.ts';
import { LABEL } from '../../../../agent/storage/layout.ts';
import { NODE_NAME_PATTERN } from '../../../../agent/nodes/spec.ts';
import { StationError } from '../../../../agent/errors.ts';
import { removeTempDirs, tempDir } from '../../../helpers/temp-dirs.ts';
import { rejectsWith } from '../../../helpers/rejects.ts';

test.after(removeTempDirs);

const fresh = async () => {
  const root = join(tempDir('st-dir-driver-'), 'volumes');
  const driver = new DirVolumeDriver({ root });
  await driver.prepare();
  return { root, driver };
};

const rejection = (promise: Promise<unknown> | (() => unknown)) => rejectsWith(promise, StationError);

// What agent/nodes/build.ts (volumeSource) and nodes/volumes.ts (ensureVolumes) did before the storage
// room (commit fefa1ed): stateDir/volumes/<node> made 0700, then stateDir/volumes/<node>/<volume>.
function oldEnsureVolumes(root: string, node: string, volumes: string[]): void {
  mkdirSync(join(root, node), { recursive: true, mode: 0o700 });
  for (const volume of volumes) mkdirSync(join(root, node, volume), { recursive: true });
}

test('the mount source is exactly the path nodes computed before the storage room', async () => {
  const { root, driver } = await fresh();
  assert.is(driver.mountSource({ node: 'web', volume: 'data' }), join(root, 'web', 'data'));
  assert.is(LABEL.source, NODE_NAME_PATTERN, "storage accepts exactly the node spec's names");
});

test('volumes made by the old code are found, listed, measured and deleted', async () => {
  const { root, driver } = await fresh();
  oldEnsureVolumes(root, 'web', ['data', 'logs']);
  writeFileSync(join(root, 'web', 'data', 'blob'), Buffer.alloc(1024 * 1024, 7));
  assert.ok(await driver.volumeExists({ node: 'web', volume: 'data' }));
  assert.equal(await driver.listVolumes(), [
    { node: 'web', volume: 'data' },
    { node: 'web', volume: 'logs' },
  ]);
  const usage = await driver.volumeUsage({ node: 'web', volume: 'data' });
  assert.ok(usage.usedBytes >= 1024 * 1024 && usage.usedBytes < 2 * 1024 * 1024, `du says ${usage.usedBytes}`);
  assert.is(usage.quotaBytes, null);
  await deleteNodeVolumes(driver, 'web');
  assert.not.ok(existsSync(join(root, 'web')), 'the node directory goes with its last volume');
});

test('create, conflict on a second create, list by node, delete one', async () => {
  const { root, driver } = await fresh();
  await driver.createVolume({ node: 'b', volume: 'x' });
  await driver.createVolume({ node: 'a', volume: 'y' });
  await driver.createVolume({ node: 'a', volume: 'x' });
  assert.is((await rejection(driver.createVolume({ node: 'a', volume: 'x' }))).code, 'VOLUME_EXISTS');
  assert.equal(await driver.listVolumes(), [
    { node: 'a', volume: 'x' },
    { node: 'a', volume: 'y' },
    { node: 'b', volume: 'x' },
  ]);
  assert.equal(await driver.listVolumes('a'), [
    { node: 'a', volume: 'x' },
    { node: 'a', volume: 'y' },
  ]);
  assert.equal(await driver.listVolumes('nobody'), []);
  assert.is(statSync(join(root, 'a')).mode & 0o777, 0o700, 'a node directory is root-only, as before');
  await driver.deleteVolume({ node: 'a', volume: 'x' });
  assert.equal(await driver.listVolumes('a'), [{ node: 'a', volume: 'y' }]);
  assert.is((await rejection(driver.deleteVolume({ node: 'a', volume: 'x' }))).code, 'VOLUME_NOT_FOUND');
  assert.is((await rejection(driver.volumeUsage({ node: 'a', volume: 'x' }))).code, 'VOLUME_NOT_FOUND');
});

test('names that are not DNS labels are refused before anything is made', async () => {
  const { root, driver } = await fresh();
  const bad = [
    { node: '..', volume: 'x' },
    { node: 'a', volume: '../../etc' },
    { node: '.snapshots', volume: 'x' },
    { node: 'A', volume: 'x' },
    { node: 'a', volume: '' },
  ];
  for (const ref of bad) {
    const error = await rejection(driver.createVolume(ref));
    assert.is(error.kind, 'invalid');
    assert.is(error.code, 'INVALID_VOLUME_NAME');
    assert.is((await rejection(() => driver.mountSource(ref))).code, 'INVALID_VOLUME_NAME');
  }
  assert.equal(readdirSync(root), [], 'nothing was created');
  assert.is((await rejection(driver.listVolumes('../etc'))).code, 'INVALID_VOLUME_NAME');
});

test('a quota is refused with a reason, and the volume is not made without it', async () => {
  const { driver } = await fresh();
  const error = await rejection(driver.createVolume({ node: 'a', volume: 'x' }, { quotaBytes: 64 * 1024 * 1024 }));
  assert.is(error.kind, 'unavailable');
  assert.is(error.code, 'STORAGE_QUOTA_UNSUPPORTED');
  assert.match(error.message, /plain directories .* btrfs driver/);
  assert.not.ok(await driver.volumeExists({ node: 'a', volume: 'x' }));
  await driver.createVolume({ node: 'a', volume: 'x' });
  assert.is((await rejection(driver.setVolumeQuota({ node: 'a', volume: 'x' }, 1024 * 1024 * 64))).code, 'STORAGE_QUOTA_UNSUPPORTED');
});

test('snapshots and send/receive: a clear "not with the dir driver", after the names are checked', async () => {
  const { driver } = await fresh();
  const ref = { node: 'a', volume: 'x' };
  await driver.createVolume(ref);
  assert.equal(await driver.listSnapshots(ref), [], 'a plain directory has no snapshots');
  for (const call of [
    () => driver.createSnapshot(ref, 's1'),
    () => driver.deleteSnapshot(ref, 's1'),
    () => driver.restoreSnapshot(ref, 's1'),
    () => driver.volumeFromSnapshot(ref, 's1', { node: 'a', volume: 'y' }),
  ]) {
    const error = await rejection(call);
    assert.is(error.code, 'STORAGE_SNAPSHOTS_UNSUPPORTED');
    assert.match(error.message, /btrfs driver/);
  }
  assert.is((await rejection(driver.createSnapshot(ref, '../x'))).code, 'INVALID_SNAPSHOT_NAME');
  assert.is((await rejection(driver.sendSnapshot(ref, 's1', new PassThrough()))).code, 'STORAGE_TRANSFER_UNSUPPORTED');
  assert.is((await rejection(driver.receiveSnapshot(ref, new PassThrough()))).code, 'STORAGE_TRANSFER_UNSUPPORTED');
  assert.not.ok(await driver.volumeExists({ node: 'a', volume: 'y' }));
  assert.equal(driver.supports, { quotas: false, snapshots: false, transfer: false });
});

test('capability: available everywhere, saying what it lacks', async () => {
  const { driver } = await fresh();
  const capability = await driver.capability();
  assert.is(capability.available, true);
  assert.match(capability.reason, /plain directories .*no quotas, snapshots or send\/receive/);
});

test.run();
