// The two ways a replicated node's Active copy leaves this station without a failover:
//   demoted  another station holds the node's lease (it was promoted while this one was away, or a
//            planned move handed it over): this copy becomes Inactive
//   retired  a person deleted the node here: it is gone everywhere, so no copy may take it over
import type { NodeView } from '../../nodes/view.ts';
import type { ReplicasDeps } from '../deps.ts';
import { deletedKey } from '../lease/active-watch.ts';
import type { NodeLease } from '../lease/node-lease.ts';
import { httpPullTarget } from '../stream/http-target.ts';

/** The name of the snapshot keeping what a demoted Active wrote alone. */
export const divergedName = (at: Date): string => `diverged-${at.toISOString().replace(/:/g, '.')}`;

/**
 * Another station holds the lease of a node that is here. This copy becomes Inactive: stopped, what
 * it wrote alone kept as a named snapshot of each volume (reported, never merged; none after a
 * planned move, where nothing diverged), the node removed with its volumes kept, and a copy record
 * that the new Active's next copies bring up to date (an increment from their last common snapshot).
 */
export async function demote(deps: ReplicasDeps, node: NodeView, holder: string, planned: boolean): Promise<void> {
  const driver = deps.nodes.volumeDriver();
  if (!driver) return;
  if (node.state === 'running') await deps.nodes.stopNow(node.name);
  const diverged = planned ? null : divergedName(new Date());
  if (diverged) for (const volume of node.spec.volumes) await driver.createSnapshot({ node: node.name, volume: volume.name }, diverged);
  await deps.nodes.removeKeepingVolumes(node.name);
  await deps.demoted(node.spec, holder);
  deps.events.publish('replicas.demoted', { node: node.name, active: holder, diverged });
  deps.log.warn({ node: node.name, active: holder, diverged }, 'replicas: this copy is Inactive now (another station was promoted)');
}

/**
 * A replicated node was deleted here. It is written down in the lease store before its lease goes
 * (a copy that sees nobody holding the lease reads it, and so does a copy's station that was away),
 * then each copy's station is told to drop its copy. If the lease store cannot be written the lease
 * is still let go: holding it would only delay what its expiry does anyway, and the log says so.
 */
export async function retire(deps: ReplicasDeps, prefix: string, node: string, lease: NodeLease | null, stations: string[]): Promise<void> {
  const self = deps.mesh.info().name;
  const written = await deps.leaseStore
    .client()
    ?.put(deletedKey(prefix, node), self)
    .then(
      () => null,
      (error: Error) => error.message,
    );
  if (written !== null)
    deps.log.error(
      { node, reason: written ?? 'no lease store member known' },
      'replicas: a deleted node could not be written down as deleted: a copy whose station does not hear of it may take it over',
    );
  await lease?.release().catch(() => lease.stop());
  const peers = deps.mesh.peers();
  const told: string[] = [];
  for (const station of stations) {
    const peer = peers.find((p) => p.name === station && p.online);
    if (!peer) continue; // it reads the lease store's note when it is back
    await httpPullTarget(peer)
      .drop(node)
      .then(
        () => told.push(station),
        (error: Error) =>
          deps.log.warn({ node, station, err: error }, 'replicas: a copy of a deleted node was not dropped now (its station reads the note later)'),
      );
  }
  deps.events.publish('replicas.retired', { node, written: written === null, told });
  deps.log.info({ node, told }, 'replicas: the node was deleted here; its copies were told to go');
}
