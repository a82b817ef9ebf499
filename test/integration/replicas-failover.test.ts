// Replicas end to end: three real agents of one owner over real Nebula, each with a loop-backed btrfs
// pool and an etcd member of the owner's lease store. Node `web` runs on s1 with Inactive copies on
// s2 and s3: after every snapshot they pull the changes (btrfs send/receive over the mesh) under s1's
// fencing token, and s1 shows each copy in sync with its lag. Bad replicas are refused with nothing
// made. A planned move takes web to s2 with nothing lost; s1 becomes an Inactive copy. s2 cut off
// from the mesh fences itself before another copy promotes (one of s3, s1: each tries in the spec's
// order, a preference a loaded machine may upset); healed, s2 keeps what it wrote alone as a named
// snapshot and resyncs. The new Active removed outright (agent killed, namespace gone): its lease
// expires, one of the two others promotes and serves what it had before its last snapshot, and the
// other does not run it. Every station's resolver follows the Active. Everything is removed even
// when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { stationApi, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { cutFromMesh, healCut } from '../../scripts/testbed-lib/mesh-cut.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { api, apiText, type EventRecorder, nodeExec, removeStationOutright, waitFor } from '../helpers/disk-testbed.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { eventRecorders, type NodeReplicasView, type ReplicaView, replicasOf, replicasTestbed, replicatedNode } from '../helpers/replicas-testbed.ts';

const LEASE_S = 6;
const MARKER = `ST14-${randomBytes(6).toString('hex')}`;

type Replica = ReplicaView;
type NodeReplicas = NodeReplicasView;

/** Waits until `station`'s resolver answers the node's Dynamic Alias web.alice.<domain> with `active`'s node; how long that took. */
async function aliasFollows(tb: Testbed, station: string, active: string): Promise<number> {
  const since = Date.now();
  let last: unknown = null;
  await waitFor(
    `${station} answering web.alice.mesh.internal with ${active}'s node`,
    async () => {
      const records = (await stationApi(stationOf(tb, station), 'GET', '/aliases')).body?.records ?? [];
      last = records.find((r: { name: string }) => r.name === 'web.alice.mesh.internal') ?? null;
      return (last as { station?: string } | null)?.station === active;
    },
    30_000,
    250,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  return Date.now() - since;
}

/** Waits until `station` (the Active) shows `count` copies in sync, each with a snapshot taken after `after` (ms); says what it last saw. */
async function copiesInSync(tb: Testbed, station: string, count: number, after = 0): Promise<NodeReplicas> {
  let last: NodeReplicas | null = null;
  const fresh = (x: Replica) => x.state === 'in-sync' && x.snapshotAt !== null && Date.parse(x.snapshotAt) > after;
  return waitFor(
    `${station} showing ${count} copies in sync`,
    async () => {
      last = await replicasOf(tb, station);
      return last?.replicas?.length === count && last.replicas.every(fresh) ? last : null;
    },
    120_000,
    500,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
}

const SPEC = replicatedNode({ stations: ['s2', 's3'] });

const t = suite<{ tb: Testbed; events: Record<string, EventRecorder>; token: number; active: string }>(
  'replicas: hot copies, a planned move, fencing and failover',
);

t.before(async (ctx) => {
  ctx.tb = (await replicasTestbed({ stations: 3, leaseSeconds: LEASE_S })).tb;
  ctx.events = await eventRecorders(ctx.tb, ['s1', 's2', 's3']);
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
  const view = await copiesInSync(tb, 's1', 2, written);
  assert.is(view.role, 'active');
  assert.ok(view.lease?.held && view.lease.token, 's1 holds the lease');
  ctx.token = view.lease!.token!;
  for (const r of view.replicas) assert.ok((r.lagSeconds ?? 99) < 30, `${r.station} lags ${r.lagSeconds} s`);
  for (const s of ['s2', 's3']) {
    const inactive = await replicasOf(tb, s);
    assert.equal([inactive?.role, inactive?.active], ['inactive', 's1'], `${s} holds an Inactive copy of s1's node`);
  }
  // the Dynamic Alias: every station answers web.alice.<domain> with the Active's node
  for (const s of ['s1', 's2', 's3']) await aliasFollows(tb, s, 's1');
});

t('a planned move to s2: the node stops, a last increment, s2 runs it with everything; s1 holds an Inactive copy', async (ctx) => {
  const { tb } = ctx;
  const moved = await api(tb, 's1', 'POST', '/nodes/web/move', { to: 's2' }, 300);
  ctx.active = 's2';
  assert.is(moved.status, 200, JSON.stringify(moved.body));
  console.log(`  moved to s2 with ${moved.body.downtimeSeconds} s of downtime (${JSON.stringify(moved.body.steps)})`);
  assert.ok(moved.body.token > ctx.token, `s2 took the lease with a larger token (${moved.body.token} > ${ctx.token})`);
  ctx.token = moved.body.token;
  assert.is((await api(tb, 's2', 'GET', '/nodes/web')).body.state, 'running');
  assert.is((await nodeExec(tb, 's2', 'web', ['cat', '/srv/index.html'])).stdout.trim(), MARKER, 'nothing lost in a planned move');
  const s1 = await waitFor(
    's1 demoted to an Inactive copy of s2',
    async () => {
      const r = await replicasOf(tb, 's1');
      return r?.role === 'inactive' && r.active === 's2' ? r : null;
    },
    60_000,
    500,
  );
  assert.ok(s1);
  assert.is((await api(tb, 's1', 'GET', '/nodes/web')).status, 404, 's1 runs no node web now');
  console.log(`  s3 answers web.alice with s2's node ${await aliasFollows(tb, 's3', 's2')} ms after the move returned`);
  const demoted = ctx.events.s1!.find('replicas.demoted', (d) => d.node === 'web');
  assert.equal([demoted?.data.active, demoted?.data.diverged], ['s2', null], 'a planned move diverges nothing');
  // the new Active's copies: s3 and s1 (the old Active), both brought up to date
  await copiesInSync(tb, 's2', 2);
});

/** Which of `stations` runs web (each promotes itself after the lease expired; the spec's order is a preference a loaded machine may upset). */
const runningOn = (tb: Testbed, stations: string[]) =>
  waitFor(
    `web running on one of ${stations.join(', ')}`,
    async () => {
      for (const s of stations) if ((await api(tb, s, 'GET', '/nodes/web')).body?.state === 'running') return s;
      return null;
    },
    120_000,
    250,
  );

/** The one station of `stations` not running web, and that it does not. */
async function onlyOneRuns(tb: Testbed, active: string, others: string[]): Promise<void> {
  for (const s of others) assert.is.not((await api(tb, s, 'GET', '/nodes/web')).body?.state, 'running', `${s} does not run web while ${active} does`);
}

t('s2 cut off from the mesh fences itself; another copy promotes; healed, s2 keeps what it wrote alone as a named snapshot and resyncs', async (ctx) => {
  const { tb } = ctx;
  const s2 = stationOf(tb, 's2');
  const table = `${RUN_PREFIX}cut`;
  onCleanup(`nft table ${table} in ${s2.netns}`, () => healCut(s2, table));
  await nodeExec(tb, 's2', 'web', ['sh', '-c', 'echo written-by-s2-alone > /srv/alone.txt && sync']);
  const cutAt = Date.now();
  await cutFromMesh(s2, table);
  const fenced = await waitFor('s2 fenced', async () => ctx.events.s2!.find('replicas.fenced', (d) => d.node === 'web'), 60_000, 250);
  assert.ok(fenced.data.stopped, 'the node was stopped: failover is automatic');
  const next = await runningOn(tb, ['s3', 's1']);
  const running = Date.now();
  console.log(
    `  s2 fenced ${((fenced.receivedAt - cutAt) / 1000).toFixed(1)} s after the cut; ${next} runs web ${((running - cutAt) / 1000).toFixed(1)} s after it`,
  );
  assert.ok(fenced.receivedAt < running, 'the old Active stopped before the new one started');
  await onlyOneRuns(
    tb,
    next,
    ['s1', 's2', 's3'].filter((s) => s !== next),
  );
  const promoted = await waitFor('the promotion event', async () => ctx.events[next]!.find('replicas.promoted', (d) => d.node === 'web'), 10_000);
  assert.ok(promoted.data.token > ctx.token, 'a larger token');
  ctx.token = promoted!.data.token;
  ctx.active = next;

  await healCut(s2, table);
  const demoted = await waitFor('s2 demoted', async () => ctx.events.s2!.find('replicas.demoted', (d) => d.node === 'web'), 120_000, 500);
  assert.is(demoted.data.active, next);
  assert.match(demoted.data.diverged ?? '', /^diverged-/);
  await copiesInSync(tb, next, 2);
  const view = await replicasOf(tb, 's2');
  assert.equal([view?.role, view?.active], ['inactive', next]);
  for (const s of ['s1', 's2', 's3']) await aliasFollows(tb, s, next);
});

t('the Active lost outright: its lease expires and another copy promotes and serves what the Active had before its last snapshot', async (ctx) => {
  const { tb } = ctx;
  const lost = ctx.active;
  const rest = ['s1', 's2', 's3'].filter((s) => s !== lost);
  await nodeExec(tb, lost, 'web', ['sh', '-c', `echo ${MARKER}-${lost} > /srv/index.html && sync`]);
  const written = Date.now();
  await copiesInSync(tb, lost, 2, written);
  const gone = Date.now();
  await removeStationOutright(tb, lost, ['web']);
  const promoted = await runningOn(tb, rest);
  console.log(`  web runs on ${promoted} ${((Date.now() - gone) / 1000).toFixed(1)} s after ${lost} was removed (lease TTL ${LEASE_S} s)`);
  await onlyOneRuns(
    tb,
    promoted,
    rest.filter((s) => s !== promoted),
  );
  // the event follows the node's start (the copy's record is dropped in between): wait for it
  const event = await waitFor(
    'the promotion event',
    async () => ctx.events[promoted]!.find('replicas.promoted', (d) => d.node === 'web' && d.from === lost),
    10_000,
  );
  assert.ok(event, 'the promotion is an event');
  assert.equal([event!.data.automatic, event!.data.forced], [true, false]);
  assert.ok(event!.data.token > ctx.token, 'a larger token');
  assert.is((await nodeExec(tb, promoted, 'web', ['cat', '/srv/index.html'])).stdout.trim(), `${MARKER}-${lost}`);
  const other = rest.find((s) => s !== promoted)!;
  console.log(`  ${other} answers web.alice with ${promoted}'s node ${await aliasFollows(tb, other, promoted)} ms after it ran it`);
  const metrics = (await apiText(tb, promoted, '/metrics')).text;
  assert.match(metrics, /station_replica_failovers_total\{kind="automatic"\} [12]/, `${promoted} counts its automatic promotion`);
  assert.match(metrics, /station_lease_store_voters \d/);
});

t.run();
