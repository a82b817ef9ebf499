// The snapshots part of the disk room: off with the reason where volumes cannot be snapshotted (the
// dir driver, or the nodes off), and a failing set is an event and in health, never a crash, cleared
// by the next set that works. The failing driver is a double (named so): a btrfs that fails on
// purpose cannot be made to fail on the one call we want.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../../../../agent/config/load.ts';
import type { DiskDeps } from '../../../../../agent/disk/deps.ts';
import { SnapshotKeeper } from '../../../../../agent/disk/snapshots/keeper.ts';
import { EventBus, type StationEvent } from '../../../../../agent/events.ts';
import { exec } from '../../../../../agent/exec.ts';
import type { NodeView } from '../../../../../agent/nodes/view.ts';
import { DirVolumeDriver } from '../../../../../agent/storage/dir-driver.ts';
import type { SnapshotInfo, VolumeDriver } from '../../../../../agent/storage/driver.ts';
import type { StationError } from '../../../../../agent/errors.ts';

let dir: string;
const node = (name: string, seconds: number): NodeView =>
  ({
    name,
    state: 'stopped',
    pid: null,
    spec: { name, volumes: [{ name: 'a', path: '/a' }], disk: { snapshotSeconds: seconds, backupSeconds: 0, copies: 0 } },
  }) as unknown as NodeView;

function deps(driver: VolumeDriver | null, nodes: NodeView[], events = new EventBus()): DiskDeps {
  return {
    config: loadConfig({ STATION_STATE_DIR: dir, STATION_NAME: 'test' }),
    run: exec,
    events,
    log: pino({ level: 'silent' }),
    nodes: { list: () => nodes, volumeDriver: () => driver },
    mesh: {} as DiskDeps['mesh'],
  };
}

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'st-keeper-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('with the dir driver the part is off and says why; its actions answer 503-class errors', async () => {
  const keeper = new SnapshotKeeper(deps(new DirVolumeDriver({ root: join(dir, 'volumes') }), [node('web', 60)]));
  await keeper.start();
  assert.equal(keeper.health(), { state: 'off', reason: 'the dir volume driver has no snapshots (volumes on btrfs have)' });
  const error = await keeper.list('web').catch((e: StationError) => e);
  assert.is((error as StationError).kind, 'unavailable');
  assert.is((error as StationError).code, 'SNAPSHOTS_UNAVAILABLE');
  await keeper.stop();
});

test('with the nodes off the part is off', async () => {
  const keeper = new SnapshotKeeper(deps(null, []));
  await keeper.start();
  assert.equal(keeper.health(), { state: 'off', reason: 'the nodes are off: no volumes to snapshot' });
});

/** A driver double: one volume, snapshots kept in a set; createSnapshot fails while `failing` is set. */
function flakyDriver(): VolumeDriver & { failing: boolean } {
  const snaps = new Map<string, SnapshotInfo>();
  const double = {
    name: 'btrfs',
    supports: { quotas: false, snapshots: true, transfer: false },
    failing: true,
    listVolumes: async (n?: string) => [{ node: n ?? 'web', volume: 'a' }],
    mountSource: () => dir,
    createSnapshot: async (_ref: unknown, name: string) => {
      if (double.failing) throw new Error('No space left on device');
      snaps.set(name, { name, createdAt: new Date().toISOString(), referencedBytes: 1, exclusiveBytes: 1 });
    },
    listSnapshots: async () => [...snaps.values()],
    deleteSnapshot: async (_ref: unknown, name: string) => {
      snaps.delete(name);
    },
  };
  return double as unknown as VolumeDriver & { failing: boolean };
}

test('a failing scheduled set is an event and in health, never a crash; the next set that works clears it', async () => {
  const events = new EventBus();
  const seen: StationEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const driver = flakyDriver();
  const keeper = new SnapshotKeeper(deps(driver, [node('web', 1)], events));
  await keeper.start();
  const until = async (what: () => boolean) => {
    for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(what());
  };
  await until(() => seen.some((e) => e.type === 'disk.snapshot.failed'));
  const failed = seen.find((e) => e.type === 'disk.snapshot.failed')!;
  assert.equal(failed.data, { node: 'web', kind: 'auto', reason: 'No space left on device' });
  assert.equal(keeper.health(), { state: 'degraded', reason: 'web: snapshot failed: No space left on device' });
  assert.equal(await keeper.list('web'), [], 'nothing of the failed set counts');
  driver.failing = false;
  await until(() => seen.some((e) => e.type === 'disk.snapshot.created'));
  assert.equal(keeper.health(), { state: 'ok' });
  assert.is((await keeper.list('web')).length, 1);
  await keeper.stop();
});

test.run();
