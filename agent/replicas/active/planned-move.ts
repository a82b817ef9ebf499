// A planned move: the Active copy of a node goes to one of its Inactive stations with nothing lost.
// The node stops here (cleanly), a last snapshot set is taken with it stopped, every copy pulls that
// increment, the lease is given up, and the target promotes its copy (taking the lease) and starts
// the node; this station's copy becomes Inactive at its next tick (the target holds the lease). If any
// step before the target's promotion fails, the node takes its lease again and runs here as before.
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { ReplicasDeps } from '../deps.ts';
import { httpPullTarget } from '../stream/http-target.ts';
import type { ActiveCopies } from './active-copies.ts';
import { snapshotTime } from './replica-status.ts';

export interface MoveResult {
  node: string;
  from: string;
  to: string;
  token: number | null;
  /** from the node stopping here to its start on the target */
  downtimeSeconds: number;
  /** how long each step took (ms): the copy while it ran, then the stop, last set, last increment, promotion */
  steps: Record<string, number>;
}

export async function moveNode(deps: ReplicasDeps, active: ActiveCopies, node: string, to: string): Promise<MoveResult> {
  const view = deps.nodes.list().find((n) => n.name === node);
  if (!view?.spec.replicas) throw new NotFoundError('REPLICATED_NODE_NOT_FOUND', `no replicated node ${node} runs here`);
  if (!view.spec.replicas.stations.includes(to))
    throw new ValidationError('MOVE_TARGET_NOT_A_REPLICA', `${to} holds no copy of ${node} (its copies are on ${view.spec.replicas.stations.join(', ')})`);
  if (!active.leaseOf(node)?.held) throw new ConflictError('LEASE_NOT_HELD', `this station does not hold ${node}'s lease now: it cannot hand the node over`);
  const peer = deps.mesh.peers().find((p) => p.name === to);
  if (!peer?.online) throw new ConflictError('MOVE_TARGET_OFFLINE', `${to} is offline`);

  const from = deps.mesh.info().name;
  active.holdFor(node, true);
  const steps: Record<string, number> = {};
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    steps[name] = Math.round(now - mark);
    mark = now;
  };
  let stoppedAt = 0;
  let released = false;
  try {
    await deps.nodes.snapshotNow(node);
    await active.syncTo(node, to);
    step('presyncMs');
    stoppedAt = performance.now();
    await deps.nodes.stopNow(node);
    step('stopMs');
    const set = await deps.nodes.snapshotNow(node);
    step('snapshotMs');
    const copy = await active.syncTo(node, to);
    step('lastIncrementMs');
    // the set taken with the node stopped, or a later one (the schedule goes on while it is stopped)
    const upToDate = (copy?.snapshotAt ?? '') >= (snapshotTime(set) ?? '\uffff');
    if (copy?.state !== 'in-sync' || !upToDate)
      throw new ConflictError('MOVE_COPY_FAILED', `${to} did not get the last snapshot ${set}: ${copy?.error ?? copy?.state ?? 'no copy'}`);
    await active.releaseLease(node, to);
    released = true;
    const promoted = await httpPullTarget(peer).promote(node);
    step('promoteMs');
    await active.movedTo(node, to);
    const downtimeSeconds = Math.round((performance.now() - stoppedAt) / 100) / 10;
    deps.log.info({ node, to, token: promoted.token, downtimeSeconds, steps }, 'replicas: moved');
    return { node, from, to, token: promoted.token, downtimeSeconds, steps };
  } catch (error) {
    deps.log.warn({ node, to, err: error }, 'replicas: the move failed; the node runs here again');
    active.holdFor(node, false);
    if (!released || !(await active.takenElsewhere(node))) await deps.nodes.start(node).catch(() => undefined);
    throw error;
  }
}
