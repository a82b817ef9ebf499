// The copies' schedule: a node with `disk.backupSeconds: 0` (the schedule off, as its schema says) is
// never backed up by the keeper's timer, only on demand; a node with a schedule gets one run at
// start and then one per period. Doubles, named as such: the nodes, the mesh (the keeper asks it for
// the peers once per tick: that is how the test counts ticks) and the snapshots part (records which
// nodes a run looked at: a run asks it for the node's newest set first).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CopyDeps } from '../../../../../agent/disk/copies/copy-deps.ts';
import { CopyKeeper } from '../../../../../agent/disk/copies/copy-keeper.ts';
import { ensureOwnerDiskKey } from '../../../../../agent/disk/owner-key.ts';
import { EventBus } from '../../../../../agent/events.ts';
import { createLogger } from '../../../../../agent/log.ts';
import type { NodeView } from '../../../../../agent/nodes/view.ts';
import type { VolumeDriver } from '../../../../../agent/storage/driver.ts';
import { waitFor } from '../../../../helpers/wait.ts';

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
    const deps: CopyDeps = {
      config: { stateDir, httpPort: 8088, diskPeerLostSeconds: 3600, diskCheckSeconds: 0 },
      run: async (argv) => {
        throw new Error(`no program is run here (asked for ${argv[0]})`);
      },
      events: new EventBus(),
      log: createLogger('silent', false),
      nodes: {
        list: () => [viewOf('off', 0), viewOf('hourly', 3600)],
        volumeDriver: () => ({ name: 'btrfs', supports: { snapshots: true } }) as unknown as VolumeDriver,
      },
      mesh: {
        info: () => ({ state: 'up', owner: 'alice', name: 's1' }) as ReturnType<CopyDeps['mesh']['info']>,
        peers: () => {
          ticks++;
          return [];
        },
      },
    };
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

test.run();
