// GET /api/v1/disk: the pool, this station's store for its peers, and per node its volumes (used
// and limit), snapshots and copies at a glance. Built on request from the parts that know each
// piece; a part that is not there (a dir driver, no mesh) leaves its piece null, never a failure.
import type { VolumeDriver } from '../storage/driver.ts';

export interface PoolReport {
  sizeBytes: number;
  usedBytes: number;
  freeBytes: number;
}

export interface VolumeReport {
  name: string;
  /** bytes the volume holds; null when it could not be measured */
  usedBytes: number | null;
  /** its enforced limit; null for none. `df` inside the node shows the pool, not this */
  quotaBytes: number | null;
}

export interface CopyReport {
  station: string;
  state: 'ok' | 'pending' | 'failing' | 'lost';
  lastSuccess: string | null;
  /** seconds between the newest snapshot and the one this copy holds */
  lagSeconds: number | null;
  /** bytes the copy takes on the peer */
  bytes: number | null;
  snapshot: string | null;
  reason: string | null;
}

export interface CopiesReport {
  want: number;
  have: number;
  /** ok: all wanted copies current; degraded: fewer or late (reason says why); off: copies not kept here */
  state: 'ok' | 'degraded' | 'off';
  reason: string | null;
  list: CopyReport[];
}

export interface SnapshotsReport {
  count: number;
  newest: string | null;
  newestAt: string | null;
}

export interface StoreReport {
  running: boolean;
  offerBytes: number;
  usedBytes: number;
  freeBytes: number;
  reason: string | null;
}

export interface NodeDiskReport {
  name: string;
  volumes: VolumeReport[];
  snapshots: SnapshotsReport | null;
  copies: CopiesReport | null;
}

export interface DiskReport {
  driver: string | null;
  pool: PoolReport | null;
  store: StoreReport | null;
  nodes: NodeDiskReport[];
}

/** The pieces the overview asks the parts for; each may be missing. */
export interface DiskSources {
  driver: VolumeDriver | null;
  nodes: { name: string; volumes: string[] }[];
  pool?: () => Promise<PoolReport | null>;
  store?: () => StoreReport | null;
  snapshots?: (node: string) => Promise<SnapshotsReport | null>;
  copies?: (node: string) => CopiesReport | null;
}

async function volumeReport(driver: VolumeDriver | null, node: string, volume: string): Promise<VolumeReport> {
  if (!driver) return { name: volume, usedBytes: null, quotaBytes: null };
  const usage = await driver.volumeUsage({ node, volume }).catch(() => null);
  return { name: volume, usedBytes: usage?.usedBytes ?? null, quotaBytes: usage?.quotaBytes ?? null };
}

export async function diskReport(sources: DiskSources): Promise<DiskReport> {
  const nodes = await Promise.all(
    sources.nodes.map(async (n) => ({
      name: n.name,
      volumes: await Promise.all(n.volumes.map((v) => volumeReport(sources.driver, n.name, v))),
      snapshots: (await sources.snapshots?.(n.name).catch(() => null)) ?? null,
      copies: sources.copies?.(n.name) ?? null,
    })),
  );
  return {
    driver: sources.driver?.name ?? null,
    pool: (await sources.pool?.().catch(() => null)) ?? null,
    store: sources.store?.() ?? null,
    nodes,
  };
}
