// The owner's other stations as the orchestrator room asks them, over the mesh and their station API
// (api/routes/orchestrator.ts): a way into a cluster they have a manager of. The answer carries a join
// token: it travels only inside Nebula, to the owner's stations, and is never logged.
import type { PeerView } from '../mesh/peers.ts';
import type { ClusterPeers } from './cluster-entry.ts';
import { isJoinToken } from './swarm/swarm-parse.ts';
import type { JoinOffer } from './swarm/swarm-member.ts';

const ASK_TIMEOUT_MS = 20_000;

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
    const roleOk = offer.role === 'manager' || offer.role === 'worker';
    if (!isJoinToken(offer.token) || !roleOk || !Array.isArray(offer.managers) || !offer.managers.every((m) => /^[0-9.]+:\d+$/.test(m)))
      throw new Error(`${peer.name} answered something that is not a way in`);
    return offer;
  },
};
