// station_disk_* for Prometheus: copies per node (wanted, current) and each copy's lag, and what
// this station's store holds for its peers. Read at scrape time from what the parts already keep;
// snapshot sizes need btrfs calls, so they stay in GET /disk.
import type { Sample } from '../metrics.ts';
import type { CopiesReport, StoreReport } from './overview.ts';

export interface DiskMetricSources {
  nodes(): string[];
  copies(node: string): CopiesReport | null;
  store(): StoreReport | null;
}

export function diskSamples(s: DiskMetricSources): Sample[] {
  const samples: Sample[] = [];
  for (const node of s.nodes()) {
    const c = s.copies(node);
    if (!c) continue;
    samples.push(
      { name: 'station_disk_copies_wanted', help: 'encrypted copies on peer stations a node asks for', type: 'gauge', value: c.want, labels: { node } },
      { name: 'station_disk_copies_current', help: 'copies whose last backup succeeded', type: 'gauge', value: c.have, labels: { node } },
    );
    for (const copy of c.list) {
      const labels = { node, station: copy.station };
      if (copy.lagSeconds !== null)
        samples.push({ name: 'station_disk_copy_lag_seconds', help: 'age of the snapshot a copy holds', type: 'gauge', value: copy.lagSeconds, labels });
      if (copy.bytes !== null)
        samples.push({ name: 'station_disk_copy_bytes', help: 'bytes a copy takes on its peer', type: 'gauge', value: copy.bytes, labels });
    }
  }
  const store = s.store();
  if (store) {
    samples.push(
      { name: 'station_disk_store_up', help: "1 when this station's store for its peers runs", type: 'gauge', value: store.running ? 1 : 0 },
      { name: 'station_disk_store_offer_bytes', help: 'bytes offered to peers', type: 'gauge', value: store.offerBytes },
      { name: 'station_disk_store_used_bytes', help: "bytes peers' copies take here", type: 'gauge', value: store.usedBytes },
    );
  }
  return samples;
}
