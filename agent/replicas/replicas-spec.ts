// A node's `replicas` (issue 14): where its Inactive copies live and how failover goes. Checked
// against the mesh as this station sees it when a node is created or changed, so bad input is a
// clear 4xx and changes nothing (pure: the caller passes the peers). Not yet part of the node spec
// the agent accepts (docs/replicas.md).
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { LABEL } from '../storage/layout.ts';

export interface ReplicasSpec {
  /** the owner's stations that hold Inactive copies */
  stations: string[];
  /** auto: an Inactive promotes itself when the lease expired; manual: only `station node promote` */
  failover: 'auto' | 'manual';
  /** an Inactive whose newest snapshot is older than this does not promote itself */
  maxLagSeconds: number;
}

export const REPLICA_DEFAULTS = { failover: 'auto', maxLagSeconds: 120 } as const;
const MAX_REPLICAS = 4;

export interface ReplicaPeer {
  name: string;
  owner: string;
  online: boolean;
  revoked: boolean;
}

export interface ReplicaContext {
  /** this station: where the Active runs */
  self: string;
  owner: string;
  peers: readonly ReplicaPeer[];
}

/** The spec with defaults filled in, or the first thing wrong with it. */
export function checkReplicas(input: unknown, ctx: ReplicaContext): ReplicasSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('INVALID_REPLICAS', 'replicas must be an object');
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !['stations', 'failover', 'maxLagSeconds'].includes(k));
  if (unknown.length) throw new ValidationError('INVALID_REPLICAS', `replicas has unknown fields: ${unknown.join(', ')}`);
  const stations = raw.stations;
  if (!Array.isArray(stations) || stations.length < 1 || stations.length > MAX_REPLICAS)
    throw new ValidationError('INVALID_REPLICAS', `replicas.stations must list 1 to ${MAX_REPLICAS} stations`);
  for (const s of stations) {
    if (typeof s !== 'string' || !LABEL.test(s)) throw new ValidationError('INVALID_REPLICAS', `replicas.stations: ${JSON.stringify(s)} is not a station name`);
  }
  if (new Set(stations).size !== stations.length) throw new ValidationError('INVALID_REPLICAS', 'replicas.stations names a station twice');
  const failover = raw.failover ?? REPLICA_DEFAULTS.failover;
  if (failover !== 'auto' && failover !== 'manual') throw new ValidationError('INVALID_REPLICAS', 'replicas.failover is auto or manual');
  const maxLagSeconds = raw.maxLagSeconds ?? REPLICA_DEFAULTS.maxLagSeconds;
  if (!Number.isInteger(maxLagSeconds) || (maxLagSeconds as number) < 1 || (maxLagSeconds as number) > 86_400)
    throw new ValidationError('INVALID_REPLICAS', 'replicas.maxLagSeconds is a whole number of seconds from 1 to 86400');

  for (const name of stations as string[]) {
    if (name === ctx.self) throw new ValidationError('REPLICA_ON_ACTIVE_STATION', `${name} is this station, where the Active copy runs: name other stations`);
    const peer = ctx.peers.find((p) => p.name === name);
    if (!peer) throw new NotFoundError('REPLICA_STATION_UNKNOWN', `${name} is not a station of this mesh`);
    if (peer.owner !== ctx.owner)
      throw new ForbiddenError('REPLICA_OTHER_OWNER', `${name} belongs to ${peer.owner}: replicas live on ${ctx.owner}'s own stations`);
    if (peer.revoked) throw new ForbiddenError('REPLICA_STATION_REVOKED', `${name} was revoked from the mesh`);
    if (!peer.online)
      throw new ConflictError('REPLICA_STATION_UNREACHABLE', `${name} is offline now: a replica starts with a full copy, so it must be reachable`);
  }
  return { stations: [...(stations as string[])], failover, maxLagSeconds: maxLagSeconds as number };
}

/** Failover as it can work now: automatic needs a lease store of three or more members. */
export function effectiveFailover(spec: ReplicasSpec, etcdMembers: number): { mode: 'auto' | 'manual'; reason: string | null } {
  if (spec.failover === 'manual') return { mode: 'manual', reason: 'failover is manual in the spec' };
  if (etcdMembers < 3)
    return { mode: 'manual', reason: `the lease store has ${etcdMembers} member(s); automatic failover needs three of the owner's stations` };
  return { mode: 'auto', reason: null };
}
