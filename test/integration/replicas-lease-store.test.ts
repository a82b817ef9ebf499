// The owner's lease store as the agents run it: four real agents of one owner over real Nebula, each
// able to run an etcd member on its mesh address. The authority starts a one-member cluster with the
// mesh (failover manual, and status says why), takes the next two stations in as learners and
// promotes them (three voters, one leader every member agrees on, failover automatic), keeps a
// fourth station out (three is enough), refuses membership orders from anyone but the authority, and
// replaces a station that was removed outright once it has been gone replicasMemberLostSeconds.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { createMesh, join, stationApi, stationExec, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { API_PORT } from '../../scripts/testbed-lib/topology.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { EventRecorder, removeStationOutright, waitFor } from '../helpers/disk-testbed.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const LOST_S = 15;

interface Report {
  leaseStore: { member: string; reason: string | null; members: { name: string; learner: boolean; leader: boolean }[]; voters: number };
  failover: { automatic: boolean; reason: string | null };
}
const report = async (tb: Testbed, station: string): Promise<Report> => (await stationApi<Report>(stationOf(tb, station), 'GET', '/replicas')).body;
const voters = (r: Report) =>
  r.leaseStore.members
    .filter((m) => !m.learner)
    .map((m) => m.name)
    .sort();

/** The station's report once its member serves and it sees three voters (automatic failover). */
const serving = (tb: Testbed, station: string): Promise<Report> =>
  waitFor(
    `${station} serving, failover automatic`,
    async () => {
      const r = await report(tb, station);
      return r.leaseStore.member === 'serving' && r.failover.automatic ? r : null;
    },
    60_000,
    250,
  );

const t = suite<{ tb: Testbed; addr: Record<string, string>; events: EventRecorder }>('replicas: the lease store as the agents run it');

t.before(async (ctx) => {
  ctx.tb = await upForThisRun({
    stations: 4,
    publicStations: 1,
    env: { STATION_REPLICAS_ROUND_SECONDS: '1', STATION_REPLICAS_MEMBER_LOST_SECONDS: String(LOST_S), STATION_MESH_SYNC_SECONDS: '2' },
  });
  ctx.addr = { s1: await createMesh(ctx.tb, 's1', 'alice') };
  // after the mesh exists: the API's listeners follow the mesh address, which ends streams open before
  ctx.events = new EventRecorder(ctx.tb, 's1');
  await waitFor('the event stream', async () => ctx.events.connected, 10_000);
});
t.after(cleanupAll);

t('alone, the authority runs a one-member store: failover is manual and status says why', async ({ tb }) => {
  const r = await waitFor('s1 serving a member', async () => ((await report(tb, 's1')).leaseStore.voters === 1 ? report(tb, 's1') : null), 60_000, 250);
  assert.is(r.leaseStore.member, 'serving');
  assert.equal(voters(r), ['s1']);
  assert.ok(r.leaseStore.members[0]!.leader, 'it leads itself');
  assert.not.ok(r.failover.automatic);
  assert.match(r.failover.reason ?? '', /1 voting member.*needs three/);
});

t('two stations join: learners first, then voters; every member agrees on one leader; failover automatic', async (ctx) => {
  const { tb } = ctx;
  ctx.addr.s2 = await join(tb, 's1', 's2');
  ctx.addr.s3 = await join(tb, 's1', 's3');
  await waitFor('three voters on s1', async () => voters(await report(tb, 's1')).join() === 's1,s2,s3', 120_000, 500);
  for (const s of ['s2', 's3']) {
    const added = ctx.events.find('replicas.member.added', (d) => d.name === s);
    const promoted = ctx.events.find('replicas.member.promoted', (d) => d.name === s);
    assert.ok(added && promoted && added.receivedAt <= promoted.receivedAt, `${s}: added as a learner, then promoted`);
  }
  // each member reads the store every round (1 s here): wait until each has read the promotions
  const reports = await Promise.all(['s1', 's2', 's3'].map((s) => serving(tb, s)));
  const leaders = reports.map((r) =>
    r.leaseStore.members
      .filter((m) => m.leader)
      .map((m) => m.name)
      .join(),
  );
  assert.ok(leaders[0] && leaders.every((l) => l === leaders[0]), `one leader: ${leaders.join(' | ')}`);
  assert.ok(
    reports.every((r) => r.failover.reason === null),
    'nothing stops automatic failover',
  );
});

t('a fourth station stays out (three is enough) and still sees the store; only the authority orders membership', async (ctx) => {
  const { tb } = ctx;
  ctx.addr.s4 = await join(tb, 's1', 's4');
  const s4 = await waitFor(
    's4 reading the store through the members',
    async () => ((await report(tb, 's4')).leaseStore.voters === 3 ? report(tb, 's4') : null),
    60_000,
    500,
  );
  assert.is(s4.leaseStore.member, 'none');
  assert.ok(s4.failover.automatic);
  // s3 (a member, not the authority) tells s2 to join a cluster of its own making: refused
  const order = JSON.stringify({ cluster: { s2: `http://${ctx.addr.s2}:2380` }, clusterToken: 'rogue' });
  const url = `http://${ctx.addr.s2}:${API_PORT}/api/v1/replicas/lease-store/join`;
  const curl = (from: string, target: string) =>
    stationExec(stationOf(tb, from), ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '-d', order, target], {
      allowFailure: true,
    });
  assert.is((await curl('s3', url)).stdout, '403', 'another member is not the authority');
  assert.is((await curl('s2', `${stationOf(tb, 's2').api}/api/v1/replicas/lease-store/leave`)).stdout, '403', 'not over the mesh: nobody is identified');
  assert.is((await report(tb, 's2')).leaseStore.member, 'serving', "s2's member kept running");
});

t('a member station removed outright is replaced once gone replicasMemberLostSeconds; writes never stop', async (ctx) => {
  const { tb } = ctx;
  const gone = Date.now();
  await removeStationOutright(tb, 's3');
  await waitFor('s1 with s1, s2, s4 voting', async () => voters(await report(tb, 's1')).join() === 's1,s2,s4', (LOST_S + 120) * 1000, 500);
  const removed = ctx.events.find('replicas.member.removed', (d) => d.name === 's3');
  assert.ok(removed, 'the removal is an event');
  assert.is(removed!.data.why, 'its station is gone');
  // counted from the last ping s3 answered: up to one probe period (5 s) before it was removed
  assert.ok(removed!.receivedAt - gone >= (LOST_S - 5) * 1000, `not before it was gone ${LOST_S} s (after ${removed!.receivedAt - gone} ms)`);
  assert.is((await serving(tb, 's4')).leaseStore.voters, 3);
});

t.run();
