// Every route plugin served under /api/v1. Add a capability's routes here.
import type { RoutePlugin } from '../types.ts';
import { healthRoutes } from './health.ts';
import { statusRoutes } from './status.ts';
import { eventRoutes } from './events.ts';
import { metricsRoutes } from './metrics.ts';
import { nodeRoutes } from './nodes.ts';
import { pairingRoutes, sessionCheckRoutes } from './pairing.ts';
import { wifiRoutes } from './wifi.ts';
import { meshRoutes } from './mesh.ts';
import { aliasRoutes } from './aliases.ts';
import { diskStoreRoutes } from './disk-store.ts';
import { diskRoutes } from './disk.ts';
import { diskSnapshotRoutes } from './disk-snapshots.ts';
import { diskCopyRoutes } from './disk-copies.ts';
import { diskExportRoutes } from './disk-exports.ts';
import { replicasRoutes } from './replicas.ts';
import { replicasCopiesRoutes } from './replicas-copies.ts';
import { orchestratorRoutes } from './orchestrator.ts';

export const API_ROUTES: RoutePlugin[] = [
  healthRoutes,
  statusRoutes,
  eventRoutes,
  metricsRoutes,
  nodeRoutes,
  pairingRoutes,
  sessionCheckRoutes,
  wifiRoutes,
  meshRoutes,
  aliasRoutes,
  diskRoutes,
  diskSnapshotRoutes,
  diskStoreRoutes,
  diskCopyRoutes,
  diskExportRoutes,
  replicasRoutes,
  replicasCopiesRoutes,
  orchestratorRoutes,
];
