// The station's desired nodes, durable: nodes.json under the state directory. Each record is what
// a user asked for (spec, running or stopped, deleting) plus what the agent decided for it (its
// address, which stays with the node across restarts and recreate) and what its container was built
// from (so a changed spec is noticed after an agent restart too).
import { join } from 'node:path';
import { StateDocument } from '../store/document.ts';
import type { NodeSpec } from './spec.ts';
import type { DesiredNode, DesiredState } from './planner.ts';

export interface NodeRecord {
  spec: NodeSpec;
  address: string;
  state: DesiredState;
  deleting: boolean;
  /** delete the node's volumes once its container is gone */
  deleteVolumes: boolean;
  /** build hash of the existing container; null until a create finished */
  builtHash: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NodesState {
  /** the kernel boot the desired states were last set in (a new boot applies autostart) */
  bootId: string | null;
  /** the subnet node addresses are in, when it is not the configured one (the mesh allocated it) */
  subnet?: string;
  nodes: Record<string, NodeRecord>;
}

/**
 * The record of `name`, looked up as an own property only: node names are DNS labels, and one of them
 * ("constructor") is also a property every plain object inherits.
 */
export function recordOf(state: Pick<NodesState, 'nodes'>, name: string): NodeRecord | undefined {
  return Object.hasOwn(state.nodes, name) ? state.nodes[name] : undefined;
}

export function openNodesDocument(stateDir: string): StateDocument<NodesState> {
  return new StateDocument<NodesState>({
    file: join(stateDir, 'nodes.json'),
    version: 1,
    initial: () => ({ bootId: null, nodes: {} }),
    mode: 0o600,
  });
}

/** The planner's view of a record, given the hash its current spec builds to. */
export function toDesired(name: string, record: NodeRecord, buildHash: string): DesiredNode {
  return { name, state: record.state, deleting: record.deleting, buildHash, builtHash: record.builtHash };
}

/**
 * After the host rebooted, nodes come back by their autostart setting; within one boot, the state
 * the user last asked for holds. Pure: returns the records to change.
 */
export function applyBoot(state: NodesState, bootId: string): { changed: string[]; next: NodesState } {
  if (state.bootId === bootId) return { changed: [], next: state };
  const next: NodesState = { ...state, bootId, nodes: { ...state.nodes } };
  const changed: string[] = [];
  if (state.bootId !== null) {
    for (const [name, record] of Object.entries(state.nodes)) {
      const wanted: DesiredState = record.spec.autostart ? 'running' : 'stopped';
      if (!record.deleting && record.state !== wanted) {
        next.nodes[name] = { ...record, state: wanted };
        changed.push(name);
      }
    }
  }
  return { changed, next };
}
