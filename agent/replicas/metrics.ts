// station_replica_* for Prometheus: each Inactive copy's lag as its Active sees it, the lag of the
// copies held here, the lease store's voters, and how often this station promoted a copy or fenced
// itself. Read at scrape time from what the parts keep (no etcd or btrfs call).
import type { Sample } from '../metrics.ts';
import type { ReplicaStatus } from './active/replica-status.ts';

export interface ReplicaMetricSources {
  /** replicated nodes running here, with their copies */
  active(): { node: string; replicas: ReplicaStatus[] }[];
  /** copies held here and their lag */
  inactive(): { node: string; lagSeconds: number | null }[];
  voters(): number | null;
  /** promotions and fences here since the agent started */
  counts(): { promotions: { automatic: number; manual: number }; fences: number };
}

export function replicaSamples(s: ReplicaMetricSources): Sample[] {
  const samples: Sample[] = [];
  for (const { node, replicas } of s.active()) {
    for (const r of replicas) {
      const labels = { node, station: r.station };
      if (r.lagSeconds !== null && r.lagSeconds !== undefined)
        samples.push({
          name: 'station_replica_lag_seconds',
          help: 'age of the newest snapshot an Inactive copy holds',
          type: 'gauge',
          value: r.lagSeconds,
          labels,
        });
      samples.push({
        name: 'station_replica_in_sync',
        help: '1 when the Inactive copy got the newest snapshot sent',
        type: 'gauge',
        value: r.state === 'in-sync' ? 1 : 0,
        labels,
      });
    }
  }
  for (const { node, lagSeconds } of s.inactive()) {
    if (lagSeconds !== null)
      samples.push({
        name: 'station_replica_held_lag_seconds',
        help: 'age of the newest snapshot of a copy held here',
        type: 'gauge',
        value: lagSeconds,
        labels: { node },
      });
  }
  const voters = s.voters();
  if (voters !== null) samples.push({ name: 'station_lease_store_voters', help: "voting members of the owner's lease store", type: 'gauge', value: voters });
  const { promotions, fences } = s.counts();
  for (const kind of ['automatic', 'manual'] as const)
    samples.push({ name: 'station_replica_failovers_total', help: 'copies promoted here', type: 'counter', value: promotions[kind], labels: { kind } });
  samples.push({
    name: 'station_replica_fences_total',
    help: 'times this station stopped an Active copy it could not keep the lease of',
    type: 'counter',
    value: fences,
  });
  return samples;
}
