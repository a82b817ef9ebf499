// Replicas with fewer than three stations, on the real testbed: two agents of one owner over real
// Nebula, each with a loop-backed btrfs pool. The owner's lease store has one voting member (the
// authority, s1), so failover is manual and GET /replicas says why. Node `web` runs on s1 with an
// Inactive copy on s2. s1 is removed outright (the box burns): nothing is promoted by itself, even
// well past the lease TTL; `promote` without force is refused (the lease store cannot say s1 is off)
// and changes nothing; with force, s2 runs web and serves what s1 wrote before its last snapshot, and
// not what it wrote after. Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { Testbed } from '../../scripts/testbed-lib/index.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { api, type EventRecorder, nodeExec, removeStationOutright, waitFor } from '../helpers/disk-testbed.ts';
import { eventRecorders, replicasTestbed, replicatedNode } from '../helpers/replicas-testbed.ts';

const LEASE_S = 6;
const KEPT = `ST14-kept-${randomBytes(6).toString('hex')}`;
const LOST = `ST14-lost-${randomBytes(6).toString('hex')}`;

interface Report {
  leaseStore: { voters: number };
  failover: { automatic: boolean; reason: string | null };
}
interface NodeReplicas {
  role: string;
  active: string | null;
  replicas: { station: string; state: string; snapshot: string | null }[];
}

// no schedule: the test takes the one snapshot that matters
const SPEC = replicatedNode({ stations: ['s2'] }, { snapshotSeconds: 0 });

const t = suite<{ tb: Testbed; events: EventRecorder }>('replicas with two stations: failover is manual');

t.before(async (ctx) => {
  ctx.tb = (await replicasTestbed({ stations: 2, leaseSeconds: LEASE_S })).tb;
  ctx.events = (await eventRecorders(ctx.tb, ['s2'])).s2!;
});
t.after(cleanupAll);

t('one voting member: both stations say failover is not automatic, and why', async ({ tb }) => {
  for (const s of ['s1', 's2']) {
    const r = await waitFor(
      `${s} reading the lease store`,
      async () => {
        const body = (await api<Report>(tb, s, 'GET', '/replicas')).body;
        return body.leaseStore.voters === 1 ? body : null;
      },
      60_000,
      500,
    );
    assert.not.ok(r.failover.automatic, `${s}: failover is not automatic`);
    assert.match(r.failover.reason ?? '', /1 voting member.*needs three.*only a person promotes/, `${s}: ${r.failover.reason}`);
  }
});

t('web on s1 with a copy on s2: what was written before the last snapshot arrives there; what came after does not', async ({ tb }) => {
  const made = await api(tb, 's1', 'POST', '/nodes', SPEC, 180);
  assert.is(made.status, 201, JSON.stringify(made.body));
  // a replicated node takes its lease as it starts: it runs when create answers
  assert.is((await api(tb, 's1', 'GET', '/nodes/web')).body?.state, 'running', 'web runs on s1');
  assert.is((await nodeExec(tb, 's1', 'web', ['sh', '-c', `echo ${KEPT} > /srv/index.html && sync`])).exitCode, 0);
  const set = await api(tb, 's1', 'POST', '/nodes/web/snapshots', undefined, 120);
  assert.is(set.status, 201, JSON.stringify(set.body));
  let last: NodeReplicas | null = null;
  await waitFor(
    "s2's copy in sync with that snapshot",
    async () => {
      last = (await api<NodeReplicas>(tb, 's1', 'GET', '/nodes/web/replicas')).body;
      return last.replicas.some((r) => r.station === 's2' && r.state === 'in-sync' && r.snapshot === set.body.name);
    },
    90_000,
    500,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  assert.is((await nodeExec(tb, 's1', 'web', ['sh', '-c', `echo ${LOST} > /srv/index.html && sync`])).exitCode, 0);
  const s2 = (await api<NodeReplicas>(tb, 's2', 'GET', '/nodes/web/replicas')).body;
  assert.equal([s2.role, s2.active], ['inactive', 's1'], 's2 holds an Inactive copy of s1');
});

t('s1 removed outright: nothing is promoted by itself, well past the lease TTL', async ({ tb, events }) => {
  await removeStationOutright(tb, 's1', ['web']);
  // what must NOT happen within a bound: the lease TTL, the fencing margin and two failover rounds, doubled
  await new Promise((resolve) => setTimeout(resolve, 2 * (LEASE_S + 2 + 4) * 1000));
  assert.is((await api(tb, 's2', 'GET', '/nodes/web')).status, 404, 's2 runs no web');
  assert.not.ok(events.find('replicas.promoted'), 'no promotion event');
  const s2 = (await api<NodeReplicas>(tb, 's2', 'GET', '/nodes/web/replicas')).body;
  assert.is(s2.role, 'inactive', 's2 still holds its Inactive copy');
  const report = (await api<Report>(tb, 's2', 'GET', '/replicas')).body;
  assert.not.ok(report.failover.automatic, 'failover is still manual');
});

t('promote without force is refused with the reason and changes nothing', async ({ tb, events }) => {
  const refused = await api(tb, 's2', 'POST', '/nodes/web/promote', {}, 60);
  // the lease store's one member was on s1: nobody can say s1's lease ran out, or that s1 is off
  assert.is(refused.status, 503, JSON.stringify(refused.body));
  assert.is(refused.body.error.code, 'LEASE_STORE_UNAVAILABLE');
  assert.match(refused.body.error.message, /force/, `it says how: ${refused.body.error.message}`);
  assert.match(refused.body.error.message, /s1/, 'it names the station to confirm off');
  assert.is((await api(tb, 's2', 'GET', '/nodes/web')).status, 404, 's2 runs no web');
  const s2 = (await api<NodeReplicas>(tb, 's2', 'GET', '/nodes/web/replicas')).body;
  assert.equal([s2.role, s2.active], ['inactive', 's1'], 'the copy is as it was');
  assert.not.ok(events.find('replicas.promoted'), 'no promotion event');
});

t('promote with force: s2 runs web and serves what s1 wrote before its last snapshot', async ({ tb, events }) => {
  const forced = await api(tb, 's2', 'POST', '/nodes/web/promote', { force: true }, 180);
  assert.is(forced.status, 200, JSON.stringify(forced.body));
  assert.equal([forced.body.node, forced.body.from], ['web', 's1']);
  const event = await waitFor('the promotion event', async () => events.find('replicas.promoted', (d) => d.node === 'web'), 10_000);
  assert.equal([event.data.forced, event.data.automatic], [true, false]);
  await waitFor('web running on s2', async () => (await api(tb, 's2', 'GET', '/nodes/web')).body?.state === 'running', 60_000, 250);
  assert.is((await nodeExec(tb, 's2', 'web', ['cat', '/srv/index.html'])).stdout.trim(), KEPT, "s1's last snapshot, not what came after it");
  const s2 = (await api<NodeReplicas>(tb, 's2', 'GET', '/nodes/web/replicas')).body;
  assert.is(s2.role, 'active', 's2 shows itself as the Active');
});

t.run();
