// The copies keeper's timer. A node with `disk.backupSeconds: 0` (the schedule off, as its schema
// says) is never backed up by the timer, only on demand; a node with a schedule gets one run at
// start and then one per period. A peer holding a copy that goes offline or comes back is an event
// (the page reloads its Disk panel on disk.* events, and such a copy stops or starts counting).
// Doubles, named as such: the nodes, the mesh (the keeper asks it for the peers once per tick: that
// is how the test counts ticks) and the snapshots part (records which nodes a run looked at: a run
// asks it for the node's newest set first).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyKeeper } from '../../../../../agent/disk/copies/copy-keeper.ts';
import { ensureOwnerDiskKey } from '../../../../../agent/disk/owner-key.ts';
import { EventBus, type StationEvent } from '../../../../../agent/events.ts';
import type { PeerView } from '../../../../../agent/mesh/peers.ts';
import type { NodeView } from '../../../../../agent/nodes/view.ts';
import type { VolumeDriver } from '../../../../../agent/storage/driver.ts';
import { waitFor } from '../../../../helpers/wait.ts';
import { keeperDeps } from './keeper-doubles.ts';

const viewOf = (name: string, backupSeconds: number) =>
  ({
    name,
    state: 'running',
    spec: { name, volumes: [{ name: 'data', path: '/srv' }], disk: { snapshotSeconds: 60, backupSeconds, copies: 2 } },
  }) as unknown as NodeView;

test('backupSeconds 0 turns the schedule off: the timer never runs that node, and runs a scheduled one once', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'copy-schedule-'));
  try {
    await ensureOwnerDiskKey(stateDir);
    let ticks = 0;
    const looked: string[] = [];
    const deps = keeperDeps({
      stateDir,
      events: new EventBus(),
      nodes: {
        list: () => [viewOf('off', 0), viewOf('hourly', 3600)],
        volumeDriver: () => ({ name: 'btrfs', supports: { snapshots: true } }) as unknown as VolumeDriver,
      },
      peers: () => {
        ticks++;
        return [];
      },
    });
    const sets = {
      newest: async (node: string) => {
        looked.push(node);
        return null;
      },
    };
    const keeper = new CopyKeeper(deps, sets);
    await keeper.start();
    try {
      await waitFor('four ticks of the keeper', async () => ticks >= 4, 20_000, 50);
    } finally {
      await keeper.stop();
    }
    assert.equal(looked, ['hourly'], `runs looked at: ${looked.join(', ')}`);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('a peer holding a copy that goes offline, and comes back, is an event each time', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'copy-peer-'));
  try {
    await ensureOwnerDiskKey(stateDir);
    const copy = { station: 's2', repositoryBase: 'rest:http://100.64.0.2:8713/s1.alice/', user: 's1.alice', password: 'p', repository: 'web' };
    const record = { ...copy, initialized: true, placedAt: new Date().toISOString(), lastSuccess: null, lastSnapshot: null, lastSet: null };
    const more = { lastSetAt: null, bytes: null, lastError: null, lastErrorAt: null, lastCheck: null, damaged: false };
    await mkdir(join(stateDir, 'disk'), { recursive: true });
    await writeFile(join(stateDir, 'disk', 'copies.json'), JSON.stringify({ version: 1, nodes: { web: [{ ...record, ...more }] } }));
    let ticks = 0;
    let online = true;
    const peer = (name: string, up: boolean) => ({ name, owner: 'alice', address: '100.64.0.2', online: up, revoked: false, apiPort: 8088 }) as PeerView;
    const events = new EventBus();
    const seen: StationEvent[] = [];
    events.subscribe((e) => e.type.startsWith('disk.') && seen.push(e));
    const deps = keeperDeps({
      stateDir,
      events,
      nodes: { list: () => [viewOf('web', 0)], volumeDriver: () => ({ name: 'btrfs', supports: { snapshots: true } }) as unknown as VolumeDriver },
      peers: () => {
        ticks++;
        return [peer('s2', online), peer('s3', online)];
      },
    });
    const keeper = new CopyKeeper(deps, { newest: async () => null });
    await keeper.start();
    const after = async (n: number) => {
      const until = ticks + n;
      await waitFor(`${n} ticks`, async () => ticks >= until, 20_000, 50);
    };
    try {
      await after(2);
      assert.equal(seen, [], 'nothing while all is well');
      online = false;
      await after(2);
      assert.equal(
        seen.map((e) => [e.type, e.data]),
        [['disk.copy.peer', { node: 'web', station: 's2', online: false }]],
        's2 holds a copy of web; s3 none',
      );
      assert.is(keeper.report('web')?.have, 0);
      online = true;
      await after(2);
      assert.equal(seen.at(-1)?.data, { node: 'web', station: 's2', online: true });
      assert.is(seen.length, 2);
    } finally {
      await keeper.stop();
    }
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test.run();
