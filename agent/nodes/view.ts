// What the API shows for one node, pure: the stored record (what was asked for) joined with what
// LXC last reported and the last convergence failure.
import type { NodeState, NodeStats, ObservedNode } from './driver.ts';
import type { DesiredState } from './planner.ts';
import type { NodeSpec } from './spec.ts';
import type { NodeRecord } from './store.ts';

export interface NodeView {
  name: string;
  /** what LXC reports; missing = no container (yet), deleting = being removed */
  state: NodeState | 'missing' | 'deleting';
  desiredState: DesiredState;
  address: string;
  hostname: string;
  fqdn: string;
  pid: number | null;
  spec: NodeSpec;
  createdAt: string;
  updatedAt: string;
  /** the last failure converging this node, cleared by the next success */
  error: string | null;
  stats?: NodeStats | null;
  /** packets and bytes the node's network policy allowed and dropped, from the Network Node */
  traffic?: NodeTraffic | null;
  /** node:NAME references of its policy that name no node yet (they match once that node exists) */
  danglingReferences?: string[];
  /** per volume of its spec: bytes held and the enforced limit (null: none, or not measurable) */
  volumeUsage?: VolumeUsageView[];
}

export interface VolumeUsageView {
  name: string;
  usedBytes: number | null;
  quotaBytes: number | null;
}

export interface TrafficCount {
  packets: number;
  bytes: number;
}
export interface NodeTraffic {
  egress: { allowed: TrafficCount; dropped: TrafficCount };
  ingress: { allowed: TrafficCount; dropped: TrafficCount };
}

export function nodeView(
  name: string,
  record: NodeRecord,
  observed: ObservedNode | undefined,
  error: string | null,
  station: { name: string; domain: string },
): NodeView {
  return {
    name,
    state: record.deleting ? 'deleting' : (observed?.state ?? 'missing'),
    desiredState: record.state,
    address: record.address,
    hostname: record.spec.name,
    fqdn: `${name}.${station.name}.${station.domain}`,
    pid: observed?.pid ?? null,
    spec: record.spec,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    error,
  };
}
