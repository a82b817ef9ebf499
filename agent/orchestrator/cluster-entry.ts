// How a node finds its way into its cluster, and who may start one (the parts of swarm-member.ts
// that need the station around it). A way in comes from a manager of the cluster on this station, or
// from the owner's other stations over the mesh (POST /orchestrator/clusters/:cluster/join, answered
// only to the owner's stations). The founder of a new cluster is whoever creates its key in the
// owner's lease store first, on a one-minute lease (a founder that dies before starting it frees it).
import type { Logger } from '../log.ts';
import type { MeshInfo } from '../mesh/mesh-info.ts';
import type { PeerView } from '../mesh/peers.ts';
import type { OrchestratorRole } from '../nodes/spec.ts';
import type { NodeView } from '../nodes/view.ts';
import type { EtcdClient } from '../replicas/lease/etcd-client.ts';
import type { JoinOffer } from './swarm/swarm-member.ts';

/** what another station is asked over the mesh (api/routes/orchestrator.ts; http in orchestrator-peers.ts) */
export interface ClusterPeers {
  askJoin(peer: PeerView, cluster: string, request: { kind: string; role: OrchestratorRole }): Promise<JoinOffer | null>;
}

export interface ClusterEntryDeps {
  log: Logger;
  mesh: { info(): MeshInfo; peers(): PeerView[] };
  leaseStore: { client(): EtcdClient | null };
  peers: ClusterPeers;
  /** this station's nodes */
  nodes(): NodeView[];
  /** a way in from one of this station's nodes, if it is a manager of the cluster (null otherwise) */
  localOffer(node: string, role: OrchestratorRole): Promise<JoinOffer | null>;
}

const FOUNDER_LEASE_SECONDS = 60;

/** how many managers `auto` makes: the cluster survives the loss of one (more would only slow its votes) */
export const AUTO_MANAGERS = 3;

/**
 * The role a node joins with (pure): as asked, or for `auto` a manager while the cluster has fewer
 * than three (as its manager counts them; unknown: a manager), else a worker.
 */
export function joinRole(asked: OrchestratorRole, managersNow: number | null): 'manager' | 'worker' {
  if (asked !== 'auto') return asked;
  return managersNow === null || managersNow < AUTO_MANAGERS ? 'manager' : 'worker';
}

/** The cluster's name among its owner's: `home` of `home.alice` (the owner part is checked at create). */
export const clusterName = (cluster: string): string => cluster.split('.')[0]!;

export const founderKey = (owner: string, cluster: string): string => `/station/orchestrator/${owner}/${clusterName(cluster)}/founder`;

export class ClusterEntry {
  private readonly deps: ClusterEntryDeps;

  constructor(deps: ClusterEntryDeps) {
    this.deps = deps;
  }

  /** The other nodes here in `cluster` of `kind`, founders first (by name). */
  private localMembers(kind: string, cluster: string, self: string): NodeView[] {
    return this.deps
      .nodes()
      .filter((n) => n.name !== self && n.spec.orchestrator?.kind === kind && clusterName(n.spec.orchestrator.cluster) === clusterName(cluster))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async findOffer(kind: string, cluster: string, role: OrchestratorRole, self: string): Promise<JoinOffer | null> {
    for (const node of this.localMembers(kind, cluster, self)) {
      const offer = await this.deps.localOffer(node.name, role).catch(() => null);
      if (offer) return offer;
    }
    const owner = this.deps.mesh.info().owner;
    const peers = this.deps.mesh.peers().filter((p) => p.owner === owner && p.online && !p.revoked);
    for (const peer of peers) {
      const offer = await this.deps.peers.askJoin(peer, clusterName(cluster), { kind, role }).catch((error: Error) => {
        this.deps.log.debug({ peer: peer.name, cluster, reason: error.message }, 'orchestrator: no way in from this station');
        return null;
      });
      if (offer) return offer;
    }
    return null;
  }

  /** Whether `node` may start `cluster` now; else why it waits. */
  async claimFounder(kind: string, cluster: string, node: string): Promise<{ founder: true } | { founder: false; reason: string }> {
    const info = this.deps.mesh.info();
    const self = `${info.name}/${node}`;
    if (!info.owner) {
      // in no mesh the cluster is this station's alone: its first node (by name) starts it
      const first = [node, ...this.localMembers(kind, cluster, node).map((n) => n.name)].sort()[0];
      return first === node ? { founder: true } : { founder: false, reason: `${first} starts cluster ${cluster} on this station` };
    }
    const client = this.deps.leaseStore.client();
    if (!client) return { founder: false, reason: "the owner's lease store does not answer: a new cluster is started only where it says so" };
    const key = founderKey(info.owner, cluster);
    const lease = await client.grant(FOUNDER_LEASE_SECONDS);
    const made = await client.createIfAbsent(key, self, lease.id);
    if (made.created) return { founder: true };
    await client.revoke(lease.id).catch(() => undefined);
    const holder = made.holder?.value ?? 'another station';
    return holder === self ? { founder: true } : { founder: false, reason: `${holder} is starting cluster ${clusterName(cluster)}` };
  }
}
