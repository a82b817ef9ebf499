// The copies' side of a peer's store routes (api/routes/disk-store.ts), called over the mesh: the
// peer knows this station by the mesh address the request comes from, so no token is sent.
import { CapacityError, ForbiddenError, NotFoundError, StationError, UnavailableError } from '../../errors.ts';
import type { GrantRecord } from './copies-state.ts';

export interface PeerGrant extends GrantRecord {
  offerBytes: number;
  usedBytes: number;
  freeBytes: number;
}

export interface PeerHolding {
  station: string;
  repository: string;
  bytes: number;
  lastWrite: string | null;
}

/** How a peer's API is reached: its mesh address and API port. */
export interface PeerAddress {
  name: string;
  address: string;
  apiPort: number;
}

export interface StoreClient {
  grant(peer: PeerAddress, readFrom?: string): Promise<PeerGrant>;
  holdings(peer: PeerAddress): Promise<PeerHolding[]>;
}

async function call<T>(peer: PeerAddress, path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`http://${peer.address}:${peer.apiPort}/api/v1/disk/store${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    throw new UnavailableError('COPY_PEER_UNREACHABLE', `${peer.name}: its API did not answer over the mesh (${(error as Error).message})`);
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: { code?: string; message?: string } };
  if (response.ok) return body;
  const code = body.error?.code ?? `HTTP_${response.status}`;
  const message = `${peer.name}: ${body.error?.message ?? `its store answered ${response.status}`}`;
  if (response.status === 507 || code === 'DISK_STORE_FULL') throw new CapacityError(code, message);
  if (response.status === 403) throw new ForbiddenError(code, message);
  if (response.status === 404) throw new NotFoundError(code, message);
  if (response.status === 503) throw new UnavailableError(code, message);
  throw new StationError('engine', code, message);
}

export const httpStoreClient: StoreClient = {
  grant: (peer, readFrom) =>
    call<PeerGrant>(peer, '/grant', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(readFrom ? { readFrom } : {}),
    }),
  holdings: async (peer) => (await call<{ holdings: PeerHolding[] }>(peer, '/holdings')).holdings,
};
