// The node lease on a real three-member etcd 3.4 cluster: one holder at a time, renewal, expiry
// after a holder stops, self-fencing of a holder cut off from the others (before anyone else can
// take the lease, checked every 100 ms), and no holder at all without quorum.
// Layout: test/helpers/etcd-cluster.ts (a namespace per member, routed through the test's own, so a
// partition is an nftables rule in the test's forward chain). Each station's lease client talks only
// to its own member. Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { exec } from '../../agent/exec.ts';
import { ActiveWatch, activeKey } from '../../agent/replicas/lease/active-watch.ts';
import { type EtcdClient, EtcdUnavailableError } from '../../agent/replicas/lease/etcd-client.ts';
import { clientUrl, type EtcdMember, raftTimings } from '../../agent/replicas/lease/etcd-member.ts';
import { type AcquireResult, NodeLease } from '../../agent/replicas/lease/node-lease.ts';
import { insideTestNetns } from '../e2e/in-netns.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { etcdTestbed } from '../helpers/etcd-cluster.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';

const STATIONS = ['s1', 's2', 's3'] as const;
type Station = (typeof STATIONS)[number];
const TTL_S = 5;
const TIMINGS = raftTimings(1); // heartbeat 100 ms, election 1 s
const MARGIN_MS = 2000; // more than an election: a partitioned leader may renew until it steps down
const PREFIX = '/station/replicas/alice/';
const KEY = activeKey(PREFIX, 'web');

if (await insideTestNetns(fileURLToPath(import.meta.url), 'lease')) {
  let address: (i: number) => string;
  const members = new Map<Station, EtcdMember>();
  const clients = new Map<Station, EtcdClient>();
  const leases = new Map<Station, NodeLease>();
  const fencedAt = new Map<Station, number>();
  const changes: { node: string; holder: string | null; at: number }[] = [];
  let watch: ActiveWatch;

  const leaseOf = (s: Station) => {
    let lease = leases.get(s);
    if (!lease) {
      lease = new NodeLease({
        client: clients.get(s)!,
        key: KEY,
        self: s,
        ttlSeconds: TTL_S,
        marginMs: MARGIN_MS,
        onFence: () => fencedAt.set(s, performance.now()),
      });
      leases.set(s, lease);
      onCleanup(`lease of ${s}`, () => lease!.stop());
    }
    return lease;
  };
  const holders = () => STATIONS.filter((s) => leases.get(s)?.held);
  const leaderOf = async (s: Station) => (await clients.get(s)!.status(clientUrl(address(STATIONS.indexOf(s))))).leader;

  const t = suite('replicas: the node lease on etcd');

  t.before(async () => {
    const bed = await etcdTestbed(STATIONS.length, TIMINGS);
    address = bed.address;
    const cluster = Object.fromEntries(STATIONS.map((s, i) => [s, bed.peerUrl(i)]));
    await Promise.all(STATIONS.map(async (s, i) => members.set(s, await bed.start(i, s, cluster, 'new'))));
    for (const [i, s] of STATIONS.entries()) clients.set(s, bed.client(i));
    watch = new ActiveWatch({ client: clients.get('s3')!, prefix: PREFIX, onChange: (node, holder) => changes.push({ node, holder, at: performance.now() }) });
    onCleanup('watch', () => watch.stop());
    await waitFor(
      'a leader all three agree on',
      async () => {
        const leaders = await Promise.all(STATIONS.map((s) => leaderOf(s).catch(() => null)));
        return leaders[0] && leaders.every((l) => l === leaders[0]);
      },
      30_000,
    );
  });
  t.after(cleanupAll);

  t('two stations ask at once: one holds the lease with a token, the other is told who', async () => {
    const [a, b] = await Promise.all([leaseOf('s1').acquire(), leaseOf('s2').acquire()]);
    assert.is([a, b].filter((r) => r.held).length, 1, JSON.stringify([a, b]));
    const winner = a.held ? 's1' : 's2';
    const loser = a.held ? b : a;
    assert.equal(holders(), [winner]);
    assert.is(loser.held, false);
    if (loser.held) return;
    assert.is(loser.holder, winner);
    assert.is(loser.token, leaseOf(winner).fencingToken);
    assert.is((await clients.get('s3')!.get(KEY))?.value, winner, 'the third station reads the holder too');
  });

  t('a watch on a third station follows the holder (what the Dynamic Alias answers from)', async () => {
    watch.start();
    const holder = await waitFor('the watch to see the holder', async () => watch.holder('web'), 5_000);
    assert.equal(holders(), [holder]);
  });

  t('the holder keeps it for three TTLs while it renews', async () => {
    const holder = holders()[0]!;
    const token = leaseOf(holder).fencingToken;
    const until = performance.now() + 3 * TTL_S * 1000;
    while (performance.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(holders(), [holder], 'still the only holder');
      assert.is(fencedAt.has(holder), false, 'never fenced');
    }
    const kv = await clients.get('s3')!.get(KEY);
    assert.equal([kv?.value, kv?.createRevision], [holder, token]);
  });

  t('a holder that stops renewing (its agent killed): the lease runs out, another takes it with a larger token', async () => {
    const old = holders()[0]!;
    const oldToken = leaseOf(old).fencingToken!;
    const next: Station = old === 's1' ? 's2' : 's1';
    leaseOf(old).stop();
    const stoppedAt = performance.now();
    const taken = await waitFor(
      'the lease taken by another station',
      async () => {
        const r = await leaseOf(next).acquire();
        return r.held ? r : false;
      },
      4 * TTL_S * 1000,
      100,
    );
    const after = (performance.now() - stoppedAt) / 1000;
    console.log(`  taken ${after.toFixed(1)} s after the holder stopped renewing (TTL ${TTL_S} s)`);
    assert.ok(taken.token > oldToken, `token ${taken.token} > ${oldToken}`);
    assert.ok(after >= TTL_S - 1.5, `not before the lease could have run out (${after.toFixed(1)} s)`);
    leases.delete(old); // that agent is gone; a new one starts afresh
  });

  t('a holder cut off from the others fences itself before anyone else can take the lease; never two holders', async () => {
    // s1 holds, then loses the other members (not its own)
    for (const s of holders()) await leaseOf(s).release();
    const first = await leaseOf('s1').acquire();
    assert.ok(first.held, JSON.stringify(first));
    const table = `${RUN_PREFIX}cut`;
    await exec(['nft', '-f', '-'], {
      input: [
        `table inet ${table} {`,
        '  chain cut {',
        '    type filter hook forward priority 0;',
        `    ip saddr ${address(0)} drop`,
        `    ip daddr ${address(0)} drop`,
        '  }',
        '}',
        '',
      ].join('\n'),
    });
    onCleanup(`nft table ${table}`, () => exec(['nft', 'delete', 'table', 'inet', table], { allowFailure: true }));
    const cutAt = performance.now();
    let takenAt = 0;
    let twoSeen = 0;
    const probe = setInterval(() => {
      if (holders().length > 1) twoSeen++;
    }, 100);
    try {
      await waitFor(
        's2 or s3 to take the lease',
        async () => {
          for (const s of ['s2', 's3'] as const) {
            const r = await leaseOf(s)
              .acquire()
              .catch(() => null);
            if (r?.held) return (takenAt = performance.now());
          }
          return false;
        },
        6 * TTL_S * 1000,
        100,
      );
    } finally {
      clearInterval(probe);
    }
    const fence = fencedAt.get('s1');
    assert.ok(fence, 's1 fenced itself');
    console.log(`  cut at 0; s1 fenced at ${((fence! - cutAt) / 1000).toFixed(2)} s; another took it at ${((takenAt - cutAt) / 1000).toFixed(2)} s`);
    assert.ok(fence! < takenAt, 's1 stopped before another held the lease');
    const newHolder = holders()[0]!;
    await waitFor('the watch to see the new holder', async () => watch.holder('web') === newHolder, 5_000);
    const seen = changes.filter((c) => c.node === 'web' && c.at > cutAt);
    assert.equal(
      seen.map((c) => c.holder),
      [null, newHolder],
      'the watch saw s1 go (its lease expired), then the new holder',
    );
    console.log(`  the watch on s3 saw the new holder ${(seen[1]!.at - takenAt).toFixed(0)} ms from when its acquire returned`);
    assert.ok(seen[1]!.at - takenAt < 1000, 'within a second');
    assert.is(twoSeen, 0, 'a probe every 100 ms never found two holders');
    assert.is(leaseOf('s1').held, false);

    // the cut heals: s1 learns it lost the lease to the new holder
    await exec(['nft', 'delete', 'table', 'inet', table]);
    const answered = async (): Promise<AcquireResult | null> =>
      leaseOf('s1')
        .acquire()
        .catch(() => null);
    const back = await waitFor('s1 answered again', answered, 30_000, 200);
    assert.is(back.held, false);
    if (!back.held) assert.is(back.holder, holders()[0], 'the new holder, which kept the lease through the heal');
  });

  t('quorum lost (two members stopped): the holder fences, and no station can take the lease', async () => {
    for (const s of holders()) await leaseOf(s).release();
    assert.ok((await leaseOf('s1').acquire()).held);
    const heldAt = performance.now();
    await members.get('s2')!.stop();
    await members.get('s3')!.stop();
    const lostAt = performance.now();
    await waitFor('s1 fenced', async () => fencedAt.get('s1')! > heldAt, 3 * TTL_S * 1000);
    // a leader serves keep-alives until it notices it lost quorum (raft's check every election
    // timeout: up to two of them), so the last good one may come that much after the loss; the fence
    // follows TTL - margin later: by the TTL at the latest (plus a second for timers on a loaded machine)
    const bound = (TTL_S * 1000 - MARGIN_MS + 2 * TIMINGS.electionMs) / 1000 + 1;
    const fencedAfter = (fencedAt.get('s1')! - lostAt) / 1000;
    console.log(`  fenced ${fencedAfter.toFixed(2)} s after quorum was lost (bound ${bound} s)`);
    assert.ok(fencedAfter <= bound, `fenced ${fencedAfter.toFixed(2)} s after quorum was lost`);
    const tried = await leaseOf('s1')
      .acquire()
      .then(
        (r) => r,
        (e: unknown) => e,
      );
    assert.instance(tried, EtcdUnavailableError, `no lease without quorum: ${JSON.stringify(tried)}`);
    assert.equal(holders(), []);
  });

  t.run();
}
