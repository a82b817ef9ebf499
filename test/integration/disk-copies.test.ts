// Infinite Disk's acceptance for copies, in the testbed: three real agents in namespaces behind
// simulated NATs, joined by real Nebula, each with a loop-backed btrfs pool. A node on s1 writes a
// marker; its copies land on s2 and s3 (rclone serve restic, append-only, over the mesh); no file
// of either store holds the marker; s1 is then removed outright (agent killed, its container and
// namespace gone, its pool unmounted) and `station disk restore` on s2 brings the node back,
// serving the data of the last backup. Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { formMesh, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { api, nodeExec, removeStationOutright, stationCli, waitFor, waitStoresUp, webNodeWithSet } from '../helpers/disk-testbed.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const t = suite<{ tb: Testbed }>('disk copies in the testbed');
const MARKER = `ST13-MARKER-${randomBytes(8).toString('hex')}`;

t.before(async (ctx) => {
  ctx.tb = await upForThisRun({ stations: 3, publicStations: 1, storage: 'btrfs', env: { STATION_DISK_OFFER_GB: '1' } });
  await formMesh(ctx.tb, 'alice');
  // every member has the owner's disk key (sent with the directory) and its store serves
  await waitStoresUp(ctx.tb, ['s1', 's2', 's3']);
});
t.after(async ({ tb }) => {
  // the restored node first (its container lives in s2's lxcpath), then the testbed
  for (const s of ['s2', 's3']) await api(tb, s, 'DELETE', '/nodes/web?volumes=delete', undefined, 60).catch(() => undefined);
  await cleanupAll();
});

t('a node on s1 gets copies on s2 and s3, and no file of either store holds its marker', async ({ tb }) => {
  await webNodeWithSet(tb, 's1', { snapshotSeconds: 3600, backupSeconds: 3600, copies: 2 }, MARKER);
  let last: unknown = null;
  const backup = await waitFor(
    'a backup to two peers',
    async () => {
      const r = await api(tb, 's1', 'POST', '/disk/backup/web', undefined, 600);
      last = r.body;
      // a peer whose grant failed under load is skipped for a round: wait for both copies made
      const copies = r.body?.copies ?? [];
      return r.status === 200 && copies.length === 2 && copies.every((c: { ok: boolean }) => c.ok) ? r : false;
    },
    240_000,
    500,
  ).catch(async (error: Error) => {
    // what s1 knew then: its last backup's answer, its copies' state and its peers
    const copies = (await api(tb, 's1', 'GET', '/disk/copies')).body?.nodes?.find((n: { node: string }) => n.node === 'web');
    const peers = (await api(tb, 's1', 'GET', '/mesh/peers')).body?.peers;
    throw new Error(`${error.message}; last backup: ${JSON.stringify(last)}; copies: ${JSON.stringify(copies)}; peers: ${JSON.stringify(peers)}`);
  });
  assert.equal(backup.body.copies.map((c: { station: string }) => c.station).sort(), ['s2', 's3']);
  const copies = (await api(tb, 's1', 'GET', '/disk/copies')).body.nodes.find((n: { node: string }) => n.node === 'web').copies;
  assert.equal({ want: copies.want, have: copies.have, state: copies.state }, { want: 2, have: 2, state: 'ok' });
  for (const s of ['s2', 's3']) {
    const store = join(stationOf(tb, s).stateDir, 'disk', 'store');
    const files = (await exec(['find', store, '-type', 'f'])).stdout.split('\n').filter(Boolean);
    assert.ok(
      files.some((f) => f.includes('/web/data/')),
      `${s} holds the repository's data`,
    );
    const hit = await exec(['grep', '-rl', MARKER, store], { allowFailure: true });
    assert.is(hit.stdout, '', `${s}: no file holds the marker`);
  }
});

t('s1 removed outright: station disk restore on s2 brings the node back serving the last backup', async ({ tb }) => {
  // s1 is the only lighthouse and relay: the survivors must have punched their own tunnel before it
  // burns, or they cannot find each other after (a limit of one lighthouse, docs/mesh.md)
  await waitFor('s2 and s3 reaching each other directly', async () => (await directPeer(tb, 's2', 's3')) && directPeer(tb, 's3', 's2'), 120_000, 500);
  // the box burns: the agent dies, its container and namespace go, its disk is gone
  await removeStationOutright(tb, 's1', ['web']);
  await waitFor(
    's2 sees s1 offline and s3 online',
    async () => {
      const { peers } = (await api(tb, 's2', 'GET', '/mesh/peers')).body as { peers: { name: string; online: boolean }[] };
      return peers.find((p) => p.name === 's1')?.online === false && peers.find((p) => p.name === 's3')?.online === true;
    },
    120_000,
    500,
  );
  // one file first: s2 has no such node, so `disk cat` reads it from the newest copy on a peer
  const cat = await stationCli(tb, 's2', 'disk', 'cat', 'web/data/index.html');
  assert.is(cat.exitCode, 0, cat.stderr);
  assert.is(cat.stdout.trim(), MARKER);
  const cli = await stationCli(tb, 's2', 'disk', 'restore', 'web', '--json');
  assert.is(cli.exitCode, 0, cli.stderr || cli.stdout);
  const restored = JSON.parse(cli.stdout);
  assert.is(restored.station, 's3', 'read from the surviving peer');
  assert.equal(restored.volumes, ['data']);
  const served = await waitFor(
    'the restored node serving its page',
    async () => {
      const r = await nodeExec(tb, 's2', 'web', ['timeout', '3', 'wget', '-q', '-O', '-', 'http://127.0.0.1/']);
      return r.exitCode === 0 ? r.stdout.trim() : false;
    },
    180_000,
    500,
  );
  assert.is(served, MARKER);
});

t.run();

/** Whether `from` reaches `to` now over a tunnel of their own (not through a relay). */
async function directPeer(tb: Testbed, from: string, to: string): Promise<boolean> {
  const { peers } = (await api(tb, from, 'GET', '/mesh/peers')).body as { peers: { name: string; online: boolean; via: string | null }[] };
  const peer = peers.find((p) => p.name === to);
  return peer?.online === true && peer.via === null;
}
