// The agent's side of the station-to-station API: calls to the authority over the mesh (the caller
// is known to it by its mesh address), and where joining stations reach this station's API.
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/schema.ts';
import { UnavailableError } from '../errors.ts';
import { inCidr, MESH_NETWORK } from './addresses.ts';
import type { Directory } from './authority.ts';

type AuthorityRef = { address: string; apiPort: number };
const base = (a: AuthorityRef): string => `http://${a.address}:${a.apiPort}/api/v1/mesh`;

/** The authority's directory, or `revoked` when it no longer counts this station as a member. */
export async function fetchDirectory(authority: AuthorityRef): Promise<{ directory: Directory } | 'revoked'> {
  const r = await fetch(`${base(authority)}/directory`, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as Directory & { error?: { code: string } };
  if (r.status === 403 && body.error?.code === 'MESH_NOT_A_MEMBER') return 'revoked';
  if (!r.ok) throw new Error(`HTTP ${r.status}${body.error ? ` ${body.error.code}` : ''}`);
  return { directory: body };
}

/** Best effort: tells the authority this station leaves (it blocks the certificate). */
export async function announceLeave(authority: AuthorityRef): Promise<void> {
  await fetch(`${base(authority)}/members/leave`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
}

/** Where a joining station reaches this API: the configured URL, else the endpoint's host, else LAN addresses. */
export function publicApiUrls(config: Config): string[] {
  if (config.meshPublicApi) return [config.meshPublicApi];
  if (config.meshPublicEndpoint) return [`http://${config.meshPublicEndpoint.replace(/:\d+$/, '')}:${config.httpPort}`];
  const lan = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal && !inCidr(a.address, MESH_NETWORK));
  if (!lan.length) throw new UnavailableError('MESH_NO_ENDPOINT', 'this station has no address other stations could reach; set STATION_MESH_PUBLIC_API');
  return lan.map((a) => `http://${a!.address}:${config.httpPort}`);
}
