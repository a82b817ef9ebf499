// The node planner, pure: from what the station wants (desired) and what LXC has (observed) to the
// typed steps that make them match. No I/O, no clock: the same inputs always give the same steps,
// and once observed matches desired it gives none (so applying the same state twice changes nothing).
import type { NodeState, ObservedNode } from './driver.ts';

export type DesiredState = 'running' | 'stopped';

export interface DesiredNode {
  name: string;
  state: DesiredState;
  /** the user asked to delete it; the record stays until the container is gone */
  deleting: boolean;
  /** hash of the build the current spec asks for */
  buildHash: string;
  /** hash of the build the existing container was made from; null when unknown (adopted, or never finished) */
  builtHash: string | null;
}

export type Step =
  | { op: 'destroyPartial'; name: string; reason: string }
  | { op: 'create'; name: string; reason: string }
  | { op: 'start'; name: string; reason: string }
  | { op: 'stop'; name: string; reason: string }
  | { op: 'destroy'; name: string; reason: string }
  | { op: 'recreate'; name: string; start: boolean; reason: string }
  | { op: 'forget'; name: string; reason: string };

export type StepOp = Step['op'];

/** States in which LXC is mid-change: the planner waits for the next pass instead of piling on. */
const TRANSITIONAL: ReadonlySet<NodeState> = new Set(['starting', 'stopping']);

function makeAndMaybeStart(d: DesiredNode, reason: string): Step[] {
  const steps: Step[] = [{ op: 'create', name: d.name, reason }];
  if (d.state === 'running') steps.push({ op: 'start', name: d.name, reason: 'desired running' });
  return steps;
}

/** Steps for one node. `desired` undefined: the station does not manage a container of that name. */
export function planNode(desired: DesiredNode | undefined, observed: ObservedNode | undefined): Step[] {
  if (!desired) {
    // A half-made container nobody wants is debris of an interrupted create; a whole one is
    // somebody's container (made by hand in our lxcpath): never touch it.
    if (observed?.partial) return [{ op: 'destroyPartial', name: observed.name, reason: 'half-made container without a spec' }];
    return [];
  }
  const { name } = desired;
  if (desired.deleting) {
    if (!observed) return [{ op: 'forget', name, reason: 'deleted' }];
    return [
      { op: 'destroy', name, reason: 'deleted' },
      { op: 'forget', name, reason: 'deleted' },
    ];
  }
  if (!observed) return makeAndMaybeStart(desired, 'missing');
  if (observed.partial) return [{ op: 'destroyPartial', name, reason: 'create was interrupted' }, ...makeAndMaybeStart(desired, 'create was interrupted')];
  if (TRANSITIONAL.has(observed.state)) return [];
  if (desired.builtHash !== null && desired.builtHash !== desired.buildHash) {
    return [{ op: 'recreate', name, start: desired.state === 'running', reason: 'spec changed' }];
  }
  if (desired.state === 'running' && observed.state === 'stopped') return [{ op: 'start', name, reason: 'stopped, desired running' }];
  if (desired.state === 'stopped' && observed.state === 'running') return [{ op: 'stop', name, reason: 'running, desired stopped' }];
  // frozen and unknown are left alone: thawing or guessing could hurt a node someone is debugging.
  return [];
}

/** Steps for every node, grouped per node (each group runs under that node's lock). */
export function plan(desired: readonly DesiredNode[], observed: readonly ObservedNode[]): Map<string, Step[]> {
  const byName = new Map(observed.map((o) => [o.name, o]));
  const out = new Map<string, Step[]>();
  for (const d of desired) {
    const steps = planNode(d, byName.get(d.name));
    if (steps.length) out.set(d.name, steps);
    byName.delete(d.name);
  }
  for (const o of byName.values()) {
    const steps = planNode(undefined, o);
    if (steps.length) out.set(o.name, steps);
  }
  return out;
}

/** Observed nodes no spec describes (made by hand in the station's lxcpath): reported, never touched. */
export function unmanaged(desired: readonly DesiredNode[], observed: readonly ObservedNode[]): string[] {
  const names = new Set(desired.map((d) => d.name));
  return observed.filter((o) => !names.has(o.name) && !o.partial).map((o) => o.name);
}
