// The owner's other stations as the orchestrator room asks them, over the mesh and their station API
// (api/routes/orchestrator.ts): a way into a cluster they have a manager of. The answer carries a join
// token: it travels only inside Nebula, to the owner's stations, and is never logged.
import type { PeerView } from '../mesh/peers.ts';
import type { ClusterPeers } from './cluster-entry.ts';
import { isJoinToken } from './swarm/swarm-parse.ts';
import type { JoinOffer } from './swarm/swarm-member.ts';

const ASK_TIMEOUT_MS = 20_000;

const IPV4 = '(?:\\d{1,3}\\.){3}\\d{1,3}';
/** What each engine's offer looks like: its token, and where a node joins through. */
const OFFER_SHAPES: Record<string, { token: (t: string) => boolean; through: RegExp }> = {
  // a swarm join token; managers ADDRESS:2377
  swarm: { token: isJoinToken, through: new RegExp(`^${IPV4}:\\d+$`) },
  // K3s's token file (K10<sha256 of its CA>::<credentials>); servers https://ADDRESS:6443
  k3s: { token: (t) => /^K10[0-9a-f]{64}::\S{1,256}$/.test(t), through: new RegExp(`^https://${IPV4}:\\d+$`) },
  // our 32-hex token and the cluster certificate's fingerprint; ADDRESS:25000
  microk8s: { token: (t) => /^[0-9a-f]{32}\/[0-9a-f]{6,128}$/.test(t), through: new RegExp(`^${IPV4}:\\d+$`) },
};

/** Whether another station's answer is a way into a cluster of `kind` (pure): anything else is refused. */
export function isOffer(kind: string, offer: JoinOffer): boolean {
  const shape = OFFER_SHAPES[kind];
  if (!shape || typeof offer?.token !== 'string' || !shape.token(offer.token)) return false;
  if (offer.role !== 'manager' && offer.role !== 'worker') return false;
  return Array.isArray(offer.managers) && offer.managers.length > 0 && offer.managers.every((m) => typeof m === 'string' && shape.through.test(m));
}

export const httpClusterPeers: ClusterPeers = {
  async askJoin(peer: PeerView, cluster: string, request): Promise<JoinOffer | null> {
    const url = `http://${peer.address}:${peer.apiPort}/api/v1/orchestrator/clusters/${encodeURIComponent(cluster)}/join`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(ASK_TIMEOUT_MS),
    });
    if (response.status === 404) return null; // no manager of it there
    if (!response.ok) throw new Error(`${peer.name} answered ${response.status}`);
    const offer = (await response.json()) as JoinOffer;
    if (!isOffer(request.kind, offer)) throw new Error(`${peer.name} answered something that is not a way into a ${request.kind} cluster`);
    return offer;
  },
};
