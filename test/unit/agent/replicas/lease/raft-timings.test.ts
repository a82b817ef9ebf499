// Raft's timings for the owner's lease store: tuned to the mesh's round trips, but never so long that
// a lease holder's fencing margin (two election timeouts) reaches the lease TTL, which once made a
// single slow ping at a member's start refuse every node lease ("the fencing margin must be shorter
// than the lease TTL"). etcd itself refuses an election timeout under five heartbeats.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { etcdArgv, fenceMarginMs, raftTimings } from '../../../../../agent/replicas/lease/etcd-member.ts';
import { NodeLease } from '../../../../../agent/replicas/lease/node-lease.ts';
import type { EtcdClient } from '../../../../../agent/replicas/lease/etcd-client.ts';

const RTTS = [0, 1, 20, 50, 120, 400, 700, 1500, 5000, 60_000];
// the config's range for replicasLeaseSeconds (agent/config/schema.ts): 3..300
const TTLS = [3, 4, 5, 6, 10, 15, 30, 60, 300];

test('a mesh on one LAN: a 100 ms heartbeat and a one-second election timeout', () => {
  assert.equal(raftTimings(5, 10_000), { heartbeatMs: 100, electionMs: 1000, bounded: false });
});

test('a slower mesh gets longer timings, as long as the lease allows', () => {
  assert.equal(raftTimings(150, 10_000), { heartbeatMs: 225, electionMs: 2250, bounded: false });
  assert.equal(raftTimings(150, 60_000), { heartbeatMs: 225, electionMs: 2250, bounded: false });
});

test('a round trip too slow for the lease: the election timeout stops at a quarter of the TTL, and says so', () => {
  const t = raftTimings(400, 10_000);
  assert.equal(t, { heartbeatMs: 500, electionMs: 2500, bounded: true });
  assert.ok(fenceMarginMs(t) < 10_000);
});

test('for every TTL the config allows and any round trip, a node lease can be held (margin under the TTL)', () => {
  for (const ttl of TTLS)
    for (const rtt of RTTS) {
      const timings = raftTimings(rtt, ttl * 1000);
      const make = () =>
        new NodeLease({ client: {} as EtcdClient, key: '/k', self: 's1', ttlSeconds: ttl, marginMs: fenceMarginMs(timings), onFence: () => undefined });
      assert.not.throws(make, `TTL ${ttl} s, round trip ${rtt} ms: ${JSON.stringify(timings)}`);
      // renewals are tried three times inside what the margin leaves: at least 100 ms apart
      assert.ok((ttl * 1000 - fenceMarginMs(timings)) / 3 >= 300, `TTL ${ttl} s, round trip ${rtt} ms leaves time to renew`);
    }
});

test('every pair of timings is one etcd accepts: an election timeout of at least five heartbeats, a heartbeat of 100 ms or more', () => {
  for (const ttl of TTLS)
    for (const rtt of RTTS) {
      const { heartbeatMs, electionMs } = raftTimings(rtt, ttl * 1000);
      assert.ok(heartbeatMs >= 100 && electionMs >= 5 * heartbeatMs, `TTL ${ttl} s, round trip ${rtt} ms: ${heartbeatMs}/${electionMs}`);
    }
});

test('the member is started with those timings', () => {
  const timings = raftTimings(400, 10_000);
  const argv = etcdArgv({
    name: 's1',
    dataDir: '/tmp/x',
    address: '100.64.0.1',
    cluster: { s1: 'http://100.64.0.1:2380' },
    state: 'new',
    clusterToken: 't',
    timings,
  });
  assert.equal(argv.slice(argv.indexOf('--heartbeat-interval'), argv.indexOf('--heartbeat-interval') + 4), [
    '--heartbeat-interval',
    '500',
    '--election-timeout',
    '2500',
  ]);
});

test.run();
