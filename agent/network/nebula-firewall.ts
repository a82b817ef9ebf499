// Renders the mesh-facing part of every node's policy as Nebula firewall entries, so a flow that
// crosses the mesh is checked at both ends: by the sending station's Nebula `outbound` rules and
// the receiving station's Nebula `inbound` rules, on top of each station's nftables table.
// Pure. The mesh code owns the Nebula config: it merges these entries with the station's own
// (e.g. the station-to-station API) under `firewall.inbound` / `firewall.outbound`.
//
// Nebula 1.6 (Debian's) has no `local_cidr`, so an inbound entry admits its port to every node
// behind the station and nftables narrows it to the one node; with `localCidr: true` (newer
// Nebula) entries also name the node address they are for.
import type { NodeNetwork, PeerDirectory } from './types.ts';
import { EMPTY_DIRECTORY } from './types.ts';
import { parsePeer, type Peer } from './peer.ts';
import { cidrsOverlap } from '../lib/ipv4.ts';
import { ownerGroup } from '../lib/cert-groups.ts';
import type { PortRule } from './nft-match.ts';

export interface NebulaRule {
  port: string;
  proto: 'tcp' | 'udp' | 'any';
  host?: 'any';
  group?: string;
  cidr?: string;
  local_cidr?: string;
}

export interface MeshFirewallOptions {
  /** add local_cidr (Nebula >= 1.7) so an inbound entry is for one node only */
  localCidr?: boolean;
  /** mesh subnets: CIDR peers inside them are mesh traffic */
  meshSubnets?: string[];
  /** the station's own mesh address, the target of ports exposed on the mesh */
  stationMeshAddress?: string;
}

export interface MeshFirewall {
  inbound: NebulaRule[];
  outbound: NebulaRule[];
}

function ports(rule: PortRule): { port: string; proto: NebulaRule['proto'] }[] {
  if (!rule.ports?.length) return [{ port: 'any', proto: rule.proto ?? 'any' }];
  return [...new Set(rule.ports)].sort((a, b) => a - b).map((p) => ({ port: String(p), proto: rule.proto ?? 'tcp' }));
}

/** Who the entry admits, in Nebula's words; null when the peer is not reached over the mesh. */
function who(peer: Peer, locals: Set<string>, directory: PeerDirectory, options: MeshFirewallOptions): Pick<NebulaRule, 'host' | 'group' | 'cidr'>[] | null {
  switch (peer.kind) {
    case 'mesh':
      return [{ host: 'any' }];
    case 'owner':
      return [{ group: ownerGroup(peer.name) }];
    case 'group':
      return [{ group: peer.name }];
    case 'node': {
      if (locals.has(peer.name)) return null; // same station: never crosses the mesh
      const addresses = Object.hasOwn(directory.nodes, peer.name) ? directory.nodes[peer.name]! : [];
      return addresses.length ? addresses.map((a) => ({ cidr: a.includes('/') ? a : `${a}/32` })) : null;
    }
    case 'cidr':
      return (options.meshSubnets ?? []).some((m) => cidrsOverlap(m, peer.cidr)) ? [{ cidr: peer.cidr }] : null;
    default:
      return null;
  }
}

const key = (r: NebulaRule): string => JSON.stringify([r.port, r.proto, r.host ?? '', r.group ?? '', r.cidr ?? '', r.local_cidr ?? '']);

function sortUnique(rules: NebulaRule[]): NebulaRule[] {
  const byKey = new Map(rules.map((r) => [key(r), r]));
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
}

/** The Nebula firewall entries for all nodes of this station (validated policies). */
export function meshFirewallRules(nodes: NodeNetwork[], directory: PeerDirectory = EMPTY_DIRECTORY, options: MeshFirewallOptions = {}): MeshFirewall {
  const locals = new Set(nodes.map((n) => n.name));
  const inbound: NebulaRule[] = [];
  const outbound: NebulaRule[] = [];
  for (const node of nodes) {
    const local = options.localCidr ? { local_cidr: `${node.address}/32` } : {};
    for (const rule of node.policy.ingress ?? []) {
      const peers = who(parsePeer(rule.from) as Peer, locals, directory, options);
      for (const p of peers ?? []) for (const pp of ports(rule)) inbound.push({ ...pp, ...p, ...local });
    }
    for (const rule of node.policy.expose ?? []) {
      if (rule.on !== 'mesh') continue;
      const target = options.localCidr && options.stationMeshAddress ? { local_cidr: `${options.stationMeshAddress}/32` } : {};
      inbound.push({ port: String(rule.port), proto: rule.proto ?? 'tcp', host: 'any', ...target });
    }
    for (const rule of node.policy.egress ?? []) {
      const peers = who(parsePeer(rule.to) as Peer, locals, directory, options);
      for (const p of peers ?? []) for (const pp of ports(rule)) outbound.push({ ...pp, ...p });
    }
  }
  return { inbound: sortUnique(inbound), outbound: sortUnique(outbound) };
}
