// The inputs and outputs of the Network Node compiler. Everything here is plain data, so the
// compiler and the Nebula renderer stay pure functions that golden-file tests can pin down.
import type { NetworkPolicy } from './policy-schema.ts';

/** What the station knows about its own networks (from config, the node engine and the mesh). */
export interface StationNetworkFacts {
  /** the node bridge, e.g. stbr0 */
  bridge: string;
  /** the node subnet, e.g. 10.134.0.0/24 */
  nodeSubnet: string;
  /** the station's address on the bridge: the nodes' gateway and resolver, e.g. 10.134.0.1 */
  gateway: string;
  /** interfaces facing the LAN (and through it the internet); empty: every interface but the bridge and the mesh */
  lanInterfaces: string[];
  /** subnets of the LAN, e.g. 192.168.1.0/24 */
  lanSubnets: string[];
  /** the mesh (Nebula) interface, when the station is on a mesh */
  meshInterface?: string;
  /** this station's own mesh address (IPv4, no prefix): reached only through meshInterface (or lo) */
  meshAddress?: string;
  /** the mesh overlay subnet plus node subnets of other stations routed over the mesh */
  meshSubnets: string[];
}

/** One node as the compiler sees it. */
export interface NodeNetwork {
  name: string;
  /** IPv4 address without prefix */
  address: string;
  policy: NetworkPolicy;
  /** the node's host-side interface on the bridge (its veth); binds the address to that port */
  port?: string;
}

/**
 * Addresses of names a policy may mention, learned from the mesh. Local nodes are added by the
 * compiler itself from `nodes`, so `nodes` here holds remote ones (key: NAME or NAME.STATION).
 */
export interface PeerDirectory {
  nodes: Record<string, string[]>;
  owners: Record<string, string[]>;
  groups: Record<string, string[]>;
}

export const EMPTY_DIRECTORY: PeerDirectory = { nodes: {}, owners: {}, groups: {} };

export type CounterDirection = 'egress' | 'ingress' | 'expose' | 'station' | 'shared';

/** What one named counter in the ruleset counts, so the page can show it next to its rule. */
export interface CounterInfo {
  name: string;
  /** the node it belongs to; null for station-wide counters (DNS, unknown sources, NAT) */
  node: string | null;
  direction: CounterDirection;
  verdict: 'allow' | 'drop';
  /** the policy rule in words, e.g. "to internet tcp 443" */
  rule: string;
}

export interface CounterValue {
  packets: number;
  bytes: number;
}

export interface CompileInput {
  facts: StationNetworkFacts;
  nodes: NodeNetwork[];
  directory?: PeerDirectory;
  /** starting values for counters, so totals survive a re-apply (the table is replaced whole) */
  counterSeed?: Record<string, CounterValue>;
}

export interface CompiledRuleset {
  /** the whole `nft -f` input: replaces table inet station and nothing else */
  text: string;
  counters: CounterInfo[];
}

/** A node as the node service hands it over: policy not yet validated. */
export interface NodeNetworkInput {
  name: string;
  address: string;
  policy?: unknown /** host-side bridge port (veth) */;
  port?: string;
}

/** What the network knows of the mesh once it is up (the table and the Nebula entries follow it). */
export interface MeshNetworkFacts {
  meshInterface?: string;
  /** this station's own mesh address (IPv4, no prefix) */
  meshAddress?: string;
  meshSubnets: string[];
  directory?: PeerDirectory;
  /** the owner this station's aliases are published under (ALIAS.OWNER.<domain>) */
  owner?: string;
}

export interface ApplyResult {
  nodes: number;
  counters: number;
  ms: number;
  changed: boolean;
}
