// The hot copy of one volume on real btrfs: pool a is the Active station's, pool b an Inactive's
// (ReplicaReceiver over its driver, in this process: the mesh transport is not part of this test).
// Full first, then increments against the newest common snapshot; a receiver that lost the parent
// gets the snapshot whole; a stream with an older fencing token is refused before btrfs sees it, and
// the highest token survives a restart; an old Active back from a partition resyncs from the new one.
// Everything is removed even when a test fails.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { StationError } from '../../agent/errors.ts';
import { FencingTokens } from '../../agent/replicas/stream/fencing-tokens.ts';
import { ReplicaReceiver, type ReplicaTarget, sendNewest } from '../../agent/replicas/stream/replica-stream.ts';
import type { BtrfsVolumeDriver } from '../../agent/storage/btrfs-driver.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { btrfsDriverPool } from '../helpers/loop-pool.ts';
import { rejectsWith } from '../helpers/rejects.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const MiB = 1024 * 1024;
const ref = { node: 'web', volume: 'data' };
let dir: string;
let active: BtrfsVolumeDriver;
let inactive: BtrfsVolumeDriver;
let target: ReplicaTarget;

const names = async (driver: BtrfsVolumeDriver, of = ref) => (await driver.listSnapshots(of)).map((s) => s.name);
const receiverAt = (stateDir: string): ReplicaTarget => {
  const receiver = new ReplicaReceiver(inactive, new FencingTokens(stateDir));
  return { station: 's2', snapshots: (r) => receiver.snapshots(r), receive: (r, token, stream) => receiver.receive(r, token, stream) };
};
const replicaFile = (snapshot: string, file: string) => readFileSync(join(inactive.snapshotSource(ref, snapshot), file));

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-replica-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  active = (await btrfsDriverPool(dir, 'a', 512 * MiB)).driver;
  inactive = (await btrfsDriverPool(dir, 'b', 512 * MiB)).driver;
  await active.createVolume(ref);
  target = receiverAt(join(dir, 'state-b'));
});
test.after(cleanupAll);

test('the first send is whole, the next ones carry only the changes; the replica reads the same', async () => {
  const base = randomBytes(8 * MiB);
  writeFileSync(join(active.mountSource(ref), 'base.bin'), base);
  await active.createSnapshot(ref, 'set-1');
  const first = await sendNewest(active, ref, 7, target);
  assert.equal([first.sent, first.parent, first.snapshot], [true, null, 'set-1']);
  assert.ok(first.bytes > 8 * MiB, `whole: ${first.bytes} bytes`);

  writeFileSync(join(active.mountSource(ref), 'counter'), '42');
  await active.createSnapshot(ref, 'set-2');
  const next = await sendNewest(active, ref, 7, target);
  console.log(`  whole ${first.bytes} bytes in ${first.seconds.toFixed(2)} s; increment ${next.bytes} bytes in ${next.seconds.toFixed(2)} s`);
  assert.equal([next.sent, next.parent, next.snapshot], [true, 'set-1', 'set-2']);
  assert.ok(next.bytes < 100_000, `only the change: ${next.bytes} bytes`);
  assert.equal(await names(inactive), ['set-1', 'set-2']);
  assert.ok(replicaFile('set-2', 'base.bin').equals(base));
  assert.is(replicaFile('set-2', 'counter').toString(), '42');

  const again = await sendNewest(active, ref, 7, target);
  assert.equal([again.sent, again.bytes], [false, 0], 'nothing new: nothing sent');
});

test('a replica that lost the parent gets the newest snapshot whole', async () => {
  await inactive.deleteSnapshot(ref, 'set-2');
  await inactive.deleteSnapshot(ref, 'set-1');
  writeFileSync(join(active.mountSource(ref), 'counter'), '43');
  await active.createSnapshot(ref, 'set-3');
  // the plan needs a parent both hold: keep set-2 there, as a stale listing would claim
  const stale: ReplicaTarget = { ...target, snapshots: async () => ['set-2'] };
  const sent = await sendNewest(active, ref, 8, stale);
  assert.equal([sent.sent, sent.fellBackToFull, sent.parent], [true, true, null]);
  assert.ok(sent.bytes > 8 * MiB, `whole: ${sent.bytes} bytes`);
  assert.equal(await names(inactive), ['set-3']);
  assert.is(replicaFile('set-3', 'counter').toString(), '43');
});

test('an older fencing token is refused before btrfs sees the stream; the newest token outlives a restart', async () => {
  writeFileSync(join(active.mountSource(ref), 'counter'), 'diverged');
  await active.createSnapshot(ref, 'set-4');
  const before = await names(inactive);
  const refused = await rejectsWith(sendNewest(active, ref, 5, target), StationError);
  assert.is(refused.code, 'STALE_FENCING_TOKEN');
  assert.match(refused.message, /token 5 is older than 8/);
  assert.equal(await names(inactive), before, 'nothing received');

  const restarted = receiverAt(join(dir, 'state-b'));
  assert.is((await rejectsWith(sendNewest(active, ref, 7, restarted), StationError)).code, 'STALE_FENCING_TOKEN');
  const newer = await sendNewest(active, ref, 9, restarted);
  assert.equal([newer.sent, newer.parent], [true, 'set-3']);
  assert.equal(await names(inactive), ['set-3', 'set-4']);
  assert.is((await rejectsWith(new FencingTokens(dir).admit('web', 0), StationError)).code, 'INVALID_FENCING_TOKEN');
});

const OLD_ACTIVE_BACK =
  'an old Active back from a partition keeps its diverged writes in a named snapshot, ' +
  'resyncs by an increment from the new Active, and its own streams are refused';

test(OLD_ACTIVE_BACK, async () => {
  const db = { node: 'db', volume: 'main' };
  const file = (driver: BtrfsVolumeDriver, snapshot: string) => readFileSync(join(driver.snapshotSource(db, snapshot), 'state'), 'utf8');
  const tokensA = new FencingTokens(join(dir, 'state-a'));
  const tokensB = new FencingTokens(join(dir, 'state-db-b'));
  const at = (driver: BtrfsVolumeDriver, tokens: FencingTokens, station: string): ReplicaTarget => {
    const receiver = new ReplicaReceiver(driver, tokens);
    return { station, snapshots: (r) => receiver.snapshots(r), receive: (r, token, stream) => receiver.receive(r, token, stream) };
  };
  // a is Active (token 10); b holds the first snapshot
  await active.createVolume(db);
  writeFileSync(join(active.mountSource(db), 'state'), 'v1');
  writeFileSync(join(active.mountSource(db), 'bulk.bin'), randomBytes(4 * MiB));
  await active.createSnapshot(db, 's-1');
  assert.ok((await sendNewest(active, db, 10, at(inactive, tokensB, 'b'))).sent);

  // the cut: a goes on writing; b's lease store promotes b (token 11), which opens s-1 and writes
  writeFileSync(join(active.mountSource(db), 'state'), 'a-only');
  await active.createSnapshot(db, 's-2a');
  await tokensB.admit('db', 11); // the promoted station records its own token first
  await inactive.volumeFromSnapshot(db, 's-1', db);
  writeFileSync(join(inactive.mountSource(db), 'state'), 'b-wins');
  await inactive.createSnapshot(db, 's-2b');

  // healed: a's stream with its old token is refused by b, nothing received there
  const refused = await rejectsWith(sendNewest(active, db, 10, at(inactive, tokensB, 'b')), StationError);
  assert.is(refused.code, 'STALE_FENCING_TOKEN');
  assert.equal(await names(inactive, db), ['s-1', 's-2b']);
  // a demotes: what it wrote alone stays, named; b's increment against s-1 (their last common snapshot) arrives
  await active.createSnapshot(db, 'diverged-1');
  const resync = await sendNewest(inactive, db, 11, at(active, tokensA, 'a'));
  assert.equal([resync.sent, resync.parent, resync.snapshot], [true, 's-1', 's-2b']);
  assert.ok(resync.bytes < 100_000, `an increment, not the 4 MiB: ${resync.bytes} bytes`);
  await active.restoreSnapshot(db, 's-2b');
  assert.is(readFileSync(join(active.mountSource(db), 'state'), 'utf8'), 'b-wins', "a's volume is the new Active's");
  assert.is(file(active, 'diverged-1'), 'a-only', 'the diverged writes are kept, never merged');
  assert.equal(await names(active, db), ['diverged-1', 's-1', 's-2a', 's-2b']);
});

test.run();
