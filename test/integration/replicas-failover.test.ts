// Replicas end to end: three real agents of one owner over real Nebula, each with a loop-backed btrfs
// pool and an etcd member of the owner's lease store. Node `web` runs on s1 with Inactive copies on
// s2 and s3: after every snapshot they pull the changes (btrfs send/receive over the mesh) under s1's
// fencing token, and s1 shows each copy in sync with its lag. Bad replicas are refused with nothing
// made. Then s1 is removed outright (agent killed, namespace gone): its lease expires, s2 (listed
// first) promotes its copy with a larger token and serves what s1 had written before its last
// snapshot; s3 does not. Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { down, formMesh, stationApi, stationOf, type Testbed, up } from '../../scripts/testbed-lib/index.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { api, EventRecorder, nodeExec, removeStationOutright, waitFor } from '../helpers/disk-testbed.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const LEASE_S = 6;
const MARKER = `ST14-${randomBytes(6).toString('hex')}`;

interface Replica {
  station: string;
  state: string;
  snapshot: string | null;
  snapshotAt: string | null;
  lagSeconds: number | null;
}
interface NodeReplicas {
  role: string;
  active: string | null;
  lease: { held: boolean; token: number | null } | null;
  replicas: Replica[];
  lagSeconds: number | null;
}
const replicasOf = async (tb: Testbed, station: string) => (await stationApi<NodeReplicas>(stationOf(tb, station), 'GET', '/nodes/web/replicas')).body;

const SPEC = {
  name: 'web',
  resources: { memoryMB: 32 },
  volumes: [{ name: 'data', path: '/srv' }],
  modules: [{ name: 'httpd', run: 'exec httpd -f -p 80 -h /srv' }],
  disk: { snapshotSeconds: 3, backupSeconds: 0, copies: 0 },
  replicas: { stations: ['s2', 's3'] },
};

const t = suite<{ tb: Testbed; events: Record<string, EventRecorder>; token: number }>('replicas: hot copies and automatic failover');

t.before(async (ctx) => {
  onCleanup(`testbed ${RUN_PREFIX}`, () => down(RUN_PREFIX));
  ctx.tb = await up({
    prefix: RUN_PREFIX,
    stations: 3,
    publicStations: 1,
    storage: 'btrfs',
    poolMb: 384,
    env: {
      STATION_REPLICAS_ROUND_SECONDS: '1',
      STATION_REPLICAS_LEASE_SECONDS: String(LEASE_S),
      STATION_MESH_SYNC_SECONDS: '2',
      STATION_DISK_OFFER_GB: '0',
    },
  });
  await formMesh(ctx.tb, 'alice');
  await waitFor('three voters', async () => (await stationApi(stationOf(ctx.tb, 's1'), 'GET', '/replicas')).body.leaseStore.voters === 3, 120_000, 500);
  ctx.events = { s2: new EventRecorder(ctx.tb, 's2'), s3: new EventRecorder(ctx.tb, 's3') };
});
t.after(cleanupAll);

t('replicas naming this station or an unknown one are refused, and nothing is made', async ({ tb }) => {
  const self = await api(tb, 's1', 'POST', '/nodes', { ...SPEC, replicas: { stations: ['s1'] } });
  assert.is(self.status, 400, JSON.stringify(self.body));
  assert.is(self.body.error.code, 'REPLICA_ON_ACTIVE_STATION');
  const unknown = await api(tb, 's1', 'POST', '/nodes', { ...SPEC, replicas: { stations: ['s2', 'nowhere'] } });
  assert.is(unknown.status, 404, JSON.stringify(unknown.body));
  assert.is(unknown.body.error.code, 'REPLICA_STATION_UNKNOWN');
  assert.is((await api(tb, 's1', 'GET', '/nodes/web')).status, 404, 'no node was made');
});

t('after each snapshot both Inactive stations pull the changes under the Active lease token; the Active shows them in sync', async (ctx) => {
  const { tb } = ctx;
  const made = await api(tb, 's1', 'POST', '/nodes', SPEC, 180);
  assert.is(made.status, 201, JSON.stringify(made.body));
  assert.is((await nodeExec(tb, 's1', 'web', ['sh', '-c', `echo ${MARKER} > /srv/index.html && sync`])).exitCode, 0);
  const written = Date.now();
  let last: NodeReplicas | null = null;
  const fresh = (x: Replica) => x.state === 'in-sync' && x.snapshotAt !== null && Date.parse(x.snapshotAt) > written;
  const view = await waitFor(
    'both copies in sync with a snapshot taken after the write',
    async () => {
      last = await replicasOf(tb, 's1');
      return last?.replicas?.length === 2 && last.replicas.every(fresh) ? last : null;
    },
    90_000,
    500,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  assert.is(view.role, 'active');
  assert.ok(view.lease?.held && view.lease.token, 's1 holds the lease');
  ctx.token = view.lease!.token!;
  for (const r of view.replicas) assert.ok(r.lagSeconds !== null && r.lagSeconds < 30, `${r.station} lags ${r.lagSeconds} s`);
  for (const s of ['s2', 's3']) {
    const inactive = await replicasOf(tb, s);
    assert.equal([inactive.role, inactive.active], ['inactive', 's1'], `${s} holds an Inactive copy of s1's node`);
  }
});

t("s1 lost: its lease expires, s2 promotes its copy with a larger token and serves s1's last snapshot; s3 stays Inactive", async (ctx) => {
  const { tb } = ctx;
  const gone = Date.now();
  await removeStationOutright(tb, 's1', ['web']);
  const promoted = await waitFor(
    'a station running web again',
    async () => {
      for (const s of ['s2', 's3']) if ((await api(tb, s, 'GET', '/nodes/web')).body?.state === 'running') return s;
      return null;
    },
    120_000,
    250,
  );
  const failoverS = (Date.now() - gone) / 1000;
  console.log(`  web runs on ${promoted} ${failoverS.toFixed(1)} s after s1 was removed (lease TTL ${LEASE_S} s)`);
  assert.is(promoted, 's2', 'the first listed replica station promotes');
  const event = ctx.events.s2!.find('replicas.promoted', (d) => d.node === 'web');
  assert.ok(event, 'the promotion is an event');
  assert.equal([event!.data.from, event!.data.automatic, event!.data.forced], ['s1', true, false]);
  assert.ok(event!.data.token > ctx.token, `a larger fencing token: ${event!.data.token} after ${ctx.token}`);
  const served = await nodeExec(tb, 's2', 'web', ['cat', '/srv/index.html']);
  assert.is(served.stdout.trim(), MARKER, 'what s1 wrote before its last snapshot');
  assert.is((await api(tb, 's3', 'GET', '/nodes/web')).status, 404, 's3 runs no copy of web');
  const s3 = await replicasOf(tb, 's3');
  assert.equal([s3.role, s3.active], ['inactive', 's2'], 's3 follows the new Active');
});

t.run();
