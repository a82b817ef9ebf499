// The authority's calls to another station about the lease store, over the mesh (the station knows
// the authority by the mesh address the request comes from: api/routes/replicas.ts).
import type { PeerView } from '../../mesh/peers.ts';
import type { LeaseStorePeers } from './lease-store.ts';

async function post(peer: PeerView, path: string, body: unknown): Promise<void> {
  const url = `http://${peer.address}:${peer.apiPort}/api/v1/replicas/lease-store/${path}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) {
    const answer = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new Error(`${peer.name} answered ${response.status} to lease-store/${path}: ${answer.error?.message ?? 'no reason given'}`);
  }
}

export const httpLeaseStorePeers: LeaseStorePeers = {
  join: (peer, request) => post(peer, 'join', request),
  leave: (peer) => post(peer, 'leave', {}),
};
