// The testbed the replicas tests share: stations of one owner (alice) over real Nebula, each with a
// loop-backed btrfs pool and an etcd member, lease store rounds every second and a short node lease;
// the mesh formed and, from three stations, three voters in the lease store (automatic failover).
// Torn down at cleanup, even when a test fails.
import { formMesh, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { api, EventRecorder, waitFor } from './disk-testbed.ts';
import type { NodeReplicasView } from '../../agent/replicas/replicas-subsystem.ts';
import { upForThisRun } from './run-testbed.ts';

export type { NodeReplicasView };
export type ReplicaView = NodeReplicasView['replicas'][number];

/** A node's replicas as `station` sees them (GET /nodes/:name/replicas), or null where it neither runs nor holds a copy. */
export async function replicasOf(tb: Testbed, station: string, node = 'web'): Promise<NodeReplicasView | null> {
  const r = await api<NodeReplicasView>(tb, station, 'GET', `/nodes/${node}/replicas`);
  return r.status === 200 ? r.body : null;
}

export interface ReplicasTestbedOptions {
  stations: number;
  /** stations with a forwarded port (lighthouses and relays); default 1 */
  publicStations?: number;
  leaseSeconds: number;
}

export async function replicasTestbed(o: ReplicasTestbedOptions): Promise<{ tb: Testbed; addr: Record<string, string> }> {
  const tb = await upForThisRun({
    stations: o.stations,
    publicStations: o.publicStations ?? 1,
    storage: 'btrfs',
    poolMb: 384,
    env: {
      STATION_REPLICAS_ROUND_SECONDS: '1',
      STATION_REPLICAS_LEASE_SECONDS: String(o.leaseSeconds),
      STATION_MESH_SYNC_SECONDS: '2',
      STATION_DISK_OFFER_GB: '0',
    },
  });
  const addr = await formMesh(tb, 'alice');
  if (o.stations >= 3) await waitFor('three voters', async () => (await api(tb, 's1', 'GET', '/replicas')).body.leaseStore.voters === 3, 120_000, 500);
  return { tb, addr };
}

/**
 * Each station's event stream, recorded from now on. Open them after the mesh exists: the API's
 * listeners follow the mesh address, which ends streams opened before.
 */
export async function eventRecorders(tb: Testbed, stations: string[]): Promise<Record<string, EventRecorder>> {
  const recorders = Object.fromEntries(stations.map((s) => [s, new EventRecorder(tb, s)]));
  await waitFor('the event streams', async () => Object.values(recorders).every((r) => r.connected), 10_000);
  return recorders;
}

/**
 * A replicated busybox node as the replicas tests make it: httpd serving its volume at /srv, a
 * snapshot set every `snapshotSeconds` (0: only those a test takes), no copies on peers.
 */
export function replicatedNode(replicas: Record<string, unknown>, o: { name?: string; snapshotSeconds?: number } = {}) {
  return {
    name: o.name ?? 'web',
    resources: { memoryMB: 32 },
    volumes: [{ name: 'data', path: '/srv' }],
    modules: [{ name: 'httpd', run: 'exec httpd -f -p 80 -h /srv' }],
    disk: { snapshotSeconds: o.snapshotSeconds ?? 3, backupSeconds: 0, copies: 0 },
    replicas,
  };
}
