// The replicas room's narrow views of the rest of the station. Its own file so the parts (the lease
// store, the Active and Inactive sides) need nothing from the room that builds them.
import type { Config } from '../config/schema.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { MeshInfo } from '../mesh/mesh-info.ts';
import type { MemberRecord } from '../mesh/mesh-state.ts';
import type { PeerView } from '../mesh/peers.ts';
import type { NodeSpec } from '../nodes/spec.ts';
import type { NodeView } from '../nodes/view.ts';
import type { VolumeDriver } from '../storage/driver.ts';
import type { EtcdClient } from './lease/etcd-client.ts';

export interface ReplicasNodes {
  /** this station's nodes ([] while the nodes are off) */
  list(): NodeView[];
  volumeDriver(): VolumeDriver | null;
  /** stops the node cleanly, and starts it (its desired state follows) */
  stop(name: string): Promise<void>;
  start(name: string): Promise<void>;
  /** a snapshot set of the node now; its name */
  snapshotNow(name: string): Promise<string>;
  /** a reconcile pass now (a node waiting for its lease starts once this station holds it) */
  reconcile(): Promise<void>;
  /** stops the node at once (a fence: no grace period) */
  stopNow(name: string): Promise<void>;
  /** removes the node and keeps its volumes (a demoted Active keeps them as its Inactive copy) */
  removeKeepingVolumes(name: string): Promise<void>;
  /** makes the node from a promoted copy's spec, on volumes that exist already */
  create(spec: NodeSpec): Promise<void>;
}

export interface ReplicasMesh {
  info(): MeshInfo;
  peers(): PeerView[];
  /** the member of this owner's mesh calling the station-to-station API (ForbiddenError otherwise) */
  identify(remoteAddress: string, localAddress: string | undefined): MemberRecord;
}

export interface LeaseStoreView {
  client(): EtcdClient | null;
  /** voting members as last read (null: unknown yet, after a restart) */
  voters(): number | null;
  /** how long before its lease could expire a holder stops its copy (over one election timeout) */
  fenceMarginMs(): number;
}

export interface ReplicasDeps {
  config: Config;
  events: EventBus;
  log: Logger;
  nodes: ReplicasNodes;
  mesh: ReplicasMesh;
  leaseStore: LeaseStoreView;
  /** a demoted Active's node is an Inactive copy from now on (the inactive side records it) */
  demoted(spec: NodeSpec, active: string): Promise<void>;
}
