// A peer whose store refused a grant is asked again at the next placement, then only after a pause
// that doubles while it keeps refusing. (It was left out for 5 min after one
// refusal, and a peer just met over the mesh can refuse once.) Doubles, named as such: the nodes,
// the mesh, the snapshots part, and the peers' stores (StoreClient); no program runs, so each run
// ends at the repositories, after placement, which is what is looked at here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyKeeper } from '../../../../../agent/disk/copies/copy-keeper.ts';
import type { StoreClient } from '../../../../../agent/disk/copies/peer-client.ts';
import { ensureOwnerDiskKey } from '../../../../../agent/disk/owner-key.ts';
import { UnavailableError } from '../../../../../agent/errors.ts';
import { EventBus, type StationEvent } from '../../../../../agent/events.ts';
import type { PeerView } from '../../../../../agent/mesh/peers.ts';
import type { NodeView } from '../../../../../agent/nodes/view.ts';
import type { VolumeDriver } from '../../../../../agent/storage/driver.ts';
import { keeperDeps } from './keeper-doubles.ts';

const web = { name: 'web', state: 'running', spec: { name: 'web', volumes: [{ name: 'data', path: '/srv' }], disk: { backupSeconds: 0, copies: 2 } } };
const peer = (name: string, n: number) => ({ name, owner: 'alice', address: `100.64.0.${n}`, online: true, revoked: false, apiPort: 8088 }) as PeerView;

const driver = {
  name: 'btrfs',
  supports: { snapshots: true },
  snapshotSource: (ref: { node: string; volume: string }, set: string) => `/pool/snapshots/${ref.node}/${ref.volume}/${set}`,
} as unknown as VolumeDriver;

test('a refused grant: asked again at the next run; refused again, left out for a while', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'copy-grant-retry-'));
  try {
    await ensureOwnerDiskKey(stateDir);
    const events = new EventBus();
    const seen: StationEvent[] = [];
    events.subscribe((e) => (e.type === 'disk.copy.placed' || e.type === 'disk.copy.failed') && seen.push(e));
    let s2Refuses = 2;
    const asked: string[] = [];
    const store: StoreClient = {
      grant: async (p) => {
        asked.push(p.name);
        if (p.name === 's2' && s2Refuses-- > 0) throw new UnavailableError('COPY_PEER_UNREACHABLE', 's2: its API did not answer over the mesh');
        const repositoryBase = `rest:http://${p.address}:8713/s1.alice/`;
        return { repositoryBase, user: 's1.alice', password: 'p', offerBytes: 2 ** 30, usedBytes: 0, freeBytes: 2 ** 30 };
      },
      holdings: async () => [],
    };
    const deps = keeperDeps({
      stateDir,
      events,
      nodes: { list: () => [web as unknown as NodeView], volumeDriver: () => driver },
      peers: () => [peer('s2', 2), peer('s3', 3)],
    });
    const sets = { newest: async () => ({ name: 'set-1', createdAt: new Date().toISOString(), volumes: [{ volume: 'data' }] }) };
    const keeper = new CopyKeeper(deps, sets, { store });
    await keeper.start();
    // no program runs here, so every run fails at the repositories, after placement
    const run = () => keeper.backup('web').catch(() => undefined);
    const placed = () => seen.filter((e) => e.type === 'disk.copy.placed').map((e) => e.data.station);
    try {
      await run();
      assert.equal(placed(), ['s3']);
      assert.equal(seen.at(-1)?.type, 'disk.copy.failed');
      await run();
      assert.equal(asked.filter((s) => s === 's2').length, 2, 'asked again at the next run');
      await run();
      assert.equal(asked.filter((s) => s === 's2').length, 2, 'refused twice: left out for now');
      assert.equal(placed(), ['s3']);
    } finally {
      await keeper.stop();
    }
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test.run();
