// station_replica_*: what a Prometheus scrape shows of a node's copies, the copies held here, the
// lease store and the promotions and fences so far.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitingCopy } from '../../../../agent/replicas/active/replica-status.ts';
import { replicaSamples } from '../../../../agent/replicas/metrics.ts';

const copy = (station: string, state: 'in-sync' | 'failing', lagSeconds: number | null) => ({ ...waitingCopy(station), state, lagSeconds });

test('lag and sync per Inactive copy, lag of copies held here, voters, failovers by kind, fences', () => {
  const samples = replicaSamples({
    active: () => [{ node: 'web', replicas: [copy('s2', 'in-sync', 4.2), copy('s3', 'failing', null)] }],
    inactive: () => [
      { node: 'db', lagSeconds: 12.5 },
      { node: 'new', lagSeconds: null },
    ],
    voters: () => 3,
    counts: () => ({ promotions: { automatic: 2, manual: 1 }, fences: 1 }),
  });
  const line = (s: (typeof samples)[number]) => `${s.name}${s.labels ? JSON.stringify(s.labels) : ''} ${s.value}`;
  assert.equal(samples.map(line), [
    'station_replica_lag_seconds{"node":"web","station":"s2"} 4.2',
    'station_replica_in_sync{"node":"web","station":"s2"} 1',
    'station_replica_in_sync{"node":"web","station":"s3"} 0',
    'station_replica_held_lag_seconds{"node":"db"} 12.5',
    'station_lease_store_voters 3',
    'station_replica_failovers_total{"kind":"automatic"} 2',
    'station_replica_failovers_total{"kind":"manual"} 1',
    'station_replica_fences_total 1',
  ]);
});

test('before the lease store was read, no voters sample (unknown is not zero)', () => {
  const samples = replicaSamples({
    active: () => [],
    inactive: () => [],
    voters: () => null,
    counts: () => ({ promotions: { automatic: 0, manual: 0 }, fences: 0 }),
  });
  assert.not.ok(samples.some((s) => s.name === 'station_lease_store_voters'));
});

test.run();
