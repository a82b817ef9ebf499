// The two ends of a hot copy between stations, over the mesh and the station API
// (api/routes/replicas-copies.ts): the Active's calls to an Inactive (its spec, its snapshots, "pull
// this"), and the Inactive's fetch of the stream from the Active. Errors keep the far side's code, so
// SNAPSHOT_PARENT_MISSING or STALE_FENCING_TOKEN mean the same on both sides.
import { Readable } from 'node:stream';
import { ConflictError, ForbiddenError, NotFoundError, StationError, UnavailableError } from '../../errors.ts';
import type { PeerView } from '../../mesh/peers.ts';
import type { NodeSpec } from '../../nodes/spec.ts';
import type { VolumeRef } from '../../storage/driver.ts';
import type { PullTarget } from './pull-copy.ts';

/** a station answers a call about copies within this (a pull waits for the whole stream: no deadline) */
const CALL_TIMEOUT_MS = 15_000;

type Station = Pick<PeerView, 'name' | 'address' | 'apiPort'>;

async function failure(station: Station, response: Response): Promise<StationError> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  const code = body.error?.code ?? `HTTP_${response.status}`;
  const message = `${station.name}: ${body.error?.message ?? `answered ${response.status}`}`;
  if (response.status === 409) return new ConflictError(code, message);
  if (response.status === 404) return new NotFoundError(code, message);
  if (response.status === 403) return new ForbiddenError(code, message);
  if (response.status === 503) return new UnavailableError(code, message);
  return new StationError('engine', code, message);
}

async function call(station: Station, path: string, init: RequestInit, timeoutMs: number | null): Promise<Response> {
  let response: Response;
  try {
    const signal = timeoutMs === null ? null : AbortSignal.timeout(timeoutMs);
    response = await fetch(`http://${station.address}:${station.apiPort}/api/v1/replicas/${path}`, { ...init, signal });
  } catch (error) {
    throw new UnavailableError('REPLICA_STATION_UNREACHABLE', `${station.name}: its API did not answer over the mesh (${(error as Error).message})`);
  }
  if (!response.ok) throw await failure(station, response);
  return response;
}

const json = (body: unknown): RequestInit => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The Inactive station `peer` as the Active talks to it. */
export function httpPullTarget(peer: Station): PullTarget & {
  sendSpec(spec: NodeSpec, token: number): Promise<void>;
  promote(node: string): Promise<{ token: number | null }>;
  drop(node: string): Promise<void>;
} {
  return {
    station: peer.name,
    sendSpec: async (spec, token) => {
      await call(peer, `copies/${spec.name}`, { method: 'PUT', ...json({ spec, token }) }, CALL_TIMEOUT_MS);
    },
    snapshots: async (ref: VolumeRef) => {
      const response = await call(peer, `copies/${ref.node}/volumes/${ref.volume}`, { method: 'GET' }, CALL_TIMEOUT_MS);
      return ((await response.json()) as { snapshots: string[] }).snapshots;
    },
    // a planned move: the Active gave its lease up and asks this station to take the node over
    promote: async (node) => (await (await call(peer, `copies/${node}/promote`, { method: 'POST', ...json({}) }, 120_000)).json()) as { token: number | null },
    // the node was deleted on its Active: the copy goes
    drop: async (node) => {
      await call(peer, `copies/${node}`, { method: 'DELETE' }, CALL_TIMEOUT_MS);
    },
    pull: async (ref, token, snapshot, parent) => {
      const response = await call(peer, `copies/${ref.node}/volumes/${ref.volume}/pull`, { method: 'POST', ...json({ snapshot, parent, token }) }, null);
      return (await response.json()) as { snapshot: string; bytes: number };
    },
  };
}

/** The Inactive's side of a pull: the Active's stream of one snapshot (whole, or since `parent`). */
export async function fetchStream(active: Station, ref: VolumeRef, snapshot: string, parent: string | null, token: number): Promise<Readable> {
  const query = new URLSearchParams({ token: String(token), ...(parent ? { parent } : {}) });
  const response = await call(active, `streams/${ref.node}/${ref.volume}/${snapshot}?${query}`, { method: 'GET' }, null);
  if (!response.body) throw new UnavailableError('REPLICA_STREAM_EMPTY', `${active.name} sent no stream`);
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
}
