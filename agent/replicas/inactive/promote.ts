// Promotion: an Inactive copy held here becomes the Active node. It takes the node's lease first (so
// no two stations run it), opens each volume from the newest snapshot received, makes the node from
// the spec the Active sent (its Inactive stations now: the others, and the old Active's station),
// and hands the lease to the Active side, whose next copies carry the new, larger token.
// Without the lease a person may still promote (`force`), once the old Active is confirmed off: the
// lease store may be down, or a partition keep the old holder renewing.
import { ConflictError, NotFoundError, UnavailableError } from '../../errors.ts';
import { parseSetName } from '../../disk/snapshots/set-records.ts';
import type { NodeSpec } from '../../nodes/spec.ts';
import type { ReplicasDeps } from '../deps.ts';
import type { EtcdClient } from '../lease/etcd-client.ts';
import type { NodeLease } from '../lease/node-lease.ts';
import type { InactiveCopies, InactiveCopy } from './inactive-copies.ts';

export interface PromoteOptions {
  /** without the lease: only once the old Active's station is confirmed off */
  force: boolean;
  /** the failover watch promotes (not a person) */
  automatic: boolean;
}

export interface PromoteResult {
  node: string;
  from: string;
  token: number | null;
  lagSeconds: number | null;
  /** the lease, held, for the Active side to keep renewing (null when forced without it) */
  lease: NodeLease | null;
}

/** Seconds since the newest snapshot of the copy was taken (its set name says when), or null. */
export function copyLagSeconds(copy: InactiveCopy, now: number): number | null {
  const times = Object.values(copy.volumes).map((v) => (parseSetName(v.snapshot)?.at ?? new Date(v.receivedAt)).getTime());
  if (!times.length || times.length < copy.spec.volumes.length) return copy.spec.volumes.length ? null : 0;
  return Math.max(0, Math.round((now - Math.min(...times)) / 100) / 10);
}

/** The spec the promoted node runs with: its Inactive stations are the others and the old Active. */
export function promotedSpec(copy: InactiveCopy, self: string): NodeSpec {
  const spec = structuredClone(copy.spec);
  if (spec.replicas) {
    const stations = [...spec.replicas.stations.filter((s) => s !== self), copy.active].filter((s, i, all) => all.indexOf(s) === i);
    spec.replicas = { ...spec.replicas, stations };
  }
  return spec;
}

export async function promote(
  deps: ReplicasDeps,
  copies: InactiveCopies,
  makeLease: (client: EtcdClient) => NodeLease,
  node: string,
  options: PromoteOptions,
): Promise<PromoteResult> {
  const copy = await copies.get(node);
  if (!copy) throw new NotFoundError('REPLICA_NOT_FOUND', `this station holds no Inactive copy of ${node}`);
  if (deps.nodes.list().some((n) => n.name === node)) throw new ConflictError('NODE_EXISTS', `a node ${node} runs here already`);
  const driver = deps.nodes.volumeDriver();
  if (!driver) throw new UnavailableError('NODES_UNAVAILABLE', 'the nodes are off on this station');
  const missing = copy.spec.volumes.filter((v) => !copy.volumes[v.name]).map((v) => v.name);
  if (missing.length) throw new ConflictError('REPLICA_INCOMPLETE', `${node}: no snapshot of ${missing.join(', ')} has arrived here yet`);

  const self = deps.mesh.info().name;
  const started = performance.now();
  const ms: Record<string, number> = {};
  let lease: NodeLease | null = null;
  let token: number | null = null;
  const client = deps.leaseStore.client();
  if (client) {
    const candidate = makeLease(client);
    const got = await candidate.acquire().catch((error: Error) => {
      if (options.force) return null;
      throw new UnavailableError(
        'LEASE_STORE_UNAVAILABLE',
        `the lease store does not answer (${error.message}): promote with --force once ${copy.active} is confirmed off`,
      );
    });
    if (got?.held) {
      lease = candidate;
      token = got.token;
    } else if (got && !options.force) {
      throw new ConflictError(
        'LEASE_HELD_ELSEWHERE',
        `${got.holder ?? 'another station'} holds ${node}'s lease: its Active copy runs. Promote with --force only once that station is confirmed off`,
        { holder: got.holder },
      );
    }
  } else if (!options.force) {
    throw new UnavailableError('LEASE_STORE_UNAVAILABLE', `no lease store member answers: promote with --force once ${copy.active} is confirmed off`);
  }

  ms.leaseMs = Math.round(performance.now() - started);
  try {
    for (const volume of copy.spec.volumes) {
      const ref = { node, volume: volume.name };
      const snapshot = copy.volumes[volume.name]!.snapshot;
      if (await driver.volumeExists(ref)) await driver.restoreSnapshot(ref, snapshot);
      else await driver.volumeFromSnapshot(ref, snapshot, ref);
    }
    ms.volumesMs = Math.round(performance.now() - started) - ms.leaseMs;
    await deps.nodes.create(promotedSpec(copy, self));
    ms.nodeMs = Math.round(performance.now() - started) - ms.leaseMs - ms.volumesMs;
  } catch (error) {
    await lease?.release().catch(() => undefined);
    throw error;
  }
  await copies.forget(node);
  const lagSeconds = copyLagSeconds(copy, Date.now());
  deps.events.publish('replicas.promoted', { node, from: copy.active, token, lagSeconds, forced: options.force, automatic: options.automatic });
  deps.log.warn({ node, from: copy.active, token, lagSeconds, forced: options.force, automatic: options.automatic, ms }, 'replicas: promoted here');
  return { node, from: copy.active, token, lagSeconds, lease };
}
