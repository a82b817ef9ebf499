// Finding a node's copies from any of the owner's stations, the original one gone for good: each
// online peer of the owner lists what its store holds for the owner's stations; a copy written by
// another station is read through a grant with readFrom (the store links it under this station's
// name, read-only in effect: append-only). The newest reachable snapshot wins, or the one asked for
// (a restic id prefix of that copy, or the snapshot set's name, which every copy carries as a tag).
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { LABEL } from '../../storage/layout.ts';
import type { CopyMesh } from './copy-deps.ts';
import { repositoryOf } from './copies-state.ts';
import type { StoreClient } from './peer-client.ts';
import { CopyError, type Repository, type Restic } from './restic.ts';
import type { ResticSnapshot } from './restic-output.ts';

export interface FindRequest {
  node: string;
  /** restic snapshot id (prefix) or snapshot set name */
  snapshot?: string;
  /** only the copy on this peer */
  from?: string;
  /** the station the node was copied from, when copies of nodes of that name exist from several */
  origin?: string;
}

export interface FoundCopy {
  /** the peer holding it */
  station: string;
  /** the station that wrote it */
  origin: string;
  repo: Repository;
  snapshot: ResticSnapshot;
}

const SNAPSHOT_ARG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkFindRequest(r: FindRequest): void {
  if (typeof r?.node !== 'string' || !LABEL.test(r.node))
    throw new ValidationError('INVALID_NODE_NAME', `node name ${JSON.stringify(r?.node)} is not a DNS label`);
  for (const key of ['from', 'origin'] as const) {
    const v = r[key];
    if (v !== undefined && (typeof v !== 'string' || !LABEL.test(v)))
      throw new ValidationError('INVALID_STATION_NAME', `${key} ${JSON.stringify(v)} is not a station name`);
  }
  if (r.snapshot !== undefined && (typeof r.snapshot !== 'string' || !SNAPSHOT_ARG.test(r.snapshot)))
    throw new ValidationError('INVALID_SNAPSHOT', `snapshot ${JSON.stringify(r.snapshot)} is neither a restic id nor a snapshot set name`);
}

const matches = (s: ResticSnapshot, want: string): boolean => s.id.startsWith(want) || s.tags.includes(`set=${want}`);

/** The copy to read: newest first; unreachable copies are skipped and named if none is left. */
export async function findCopy(deps: { mesh: CopyMesh; store: StoreClient; restic: Restic }, r: FindRequest): Promise<FoundCopy> {
  checkFindRequest(r);
  const info = deps.mesh.info();
  const peers = deps.mesh.peers().filter((p) => p.owner === info.owner && !p.revoked && p.online && (!r.from || p.name === r.from));
  if (!peers.length)
    throw new NotFoundError('COPY_NOT_FOUND', r.from ? `${r.from} is not an online station of this owner` : 'no other station of this owner is online');
  const problems: string[] = [];
  /** copies held whose repository this station's owner key does not open */
  const unopened: string[] = [];
  const found: FoundCopy[] = [];
  for (const peer of peers) {
    const address = { name: peer.name, address: peer.address, apiPort: peer.apiPort };
    try {
      const held = (await deps.store.holdings(address)).filter(
        (h) => (h.repository === r.node || h.repository.startsWith(`${r.node}.`)) && (!r.origin || h.station === r.origin),
      );
      // A store keeps one password per calling station, and every grant replaces it: make every grant
      // this peer needs first, then read all its repositories with the last password.
      const bases = new Map<string, string>();
      let last: Awaited<ReturnType<StoreClient['grant']>> | null = null;
      for (const key of new Set(held.map((h) => (h.station === info.name ? '' : h.station)))) {
        last = await deps.store.grant(address, key || undefined);
        bases.set(key, last.repositoryBase);
      }
      for (const h of held) {
        const base = bases.get(h.station === info.name ? '' : h.station)!;
        const repo = repositoryOf({ repositoryBase: base, user: last!.user, password: last!.password }, h.repository, `${peer.name}/${h.repository}`);
        try {
          const list = (await deps.restic.snapshots(repo, { tag: `node=${r.node}` })).filter((s) => !r.snapshot || matches(s, r.snapshot));
          const newest = list.sort((a, b) => a.time.localeCompare(b.time)).at(-1);
          if (newest) found.push({ station: peer.name, origin: h.station, repo, snapshot: newest });
        } catch (error) {
          problems.push((error as Error).message);
          if (error instanceof CopyError && error.failure === 'WRONG_KEY') unopened.push(repo.label);
        }
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const origins = [...new Set(found.map((f) => f.origin))];
  if (origins.length > 1)
    throw new ValidationError('COPY_AMBIGUOUS', `copies of a node ${r.node} come from several stations (${origins.join(', ')}): name one as origin`);
  const best = found.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time)).at(-1);
  if (!best) {
    // held, but not openable with this station's key: say so (a 404 would tell the owner there is nothing to look for)
    if (unopened.length)
      throw new ConflictError(
        'COPY_WRONG_KEY',
        `copies of node ${r.node} are held (${unopened.join(', ')}) but this station's owner key opens none of them (${problems.join('; ')})`,
      );
    const what = r.snapshot ? `snapshot ${r.snapshot} of node ${r.node}` : `a copy of node ${r.node}`;
    throw new NotFoundError('COPY_NOT_FOUND', `no reachable peer holds ${what}${problems.length ? ` (${problems.join('; ')})` : ''}`);
  }
  return best;
}
