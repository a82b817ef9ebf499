// What the Network Node needs from the mesh, derived from the mesh subsystem's own views (pure):
// the owner (aliases are ALIAS.OWNER.<domain>), the peers' APIs and owners (to pull their names and
// know which owner's aliases each may publish), and once the mesh is up its interface, this
// station's own mesh address, its subnet and which owner has which mesh addresses (for owner:NAME).
// Names of nodes on other stations come from the alias registry (see remoteNodeDirectory).
import type { AliasPeer } from './alias/exchange.ts';
import type { AliasRecord } from './alias/records.ts';
import { groupsFor } from '../lib/cert-groups.ts';
import { MESH_NETWORK } from '../mesh/addresses.ts';

export interface MeshInfoView {
  state: string;
  owner: string | null;
  /** this station's mesh address */
  address?: string | null;
  nebula: { tunDev: string };
}
export interface MeshPeerView {
  name: string;
  owner: string;
  address: string;
  revoked: boolean;
  nodeSubnet?: string | null;
  lighthouse?: boolean;
  /** its API port; stations that do not say use this station's own */
  apiPort?: number;
}

export interface MeshFacts {
  owner: string | null;
  peers: AliasPeer[];
  /** the mesh's state ('none': in no mesh, never joined or left; 'up', 'down', ...) */
  state?: string;
  meshInterface?: string;
  /** this station's own mesh address, once the mesh is up */
  meshAddress?: string;
  meshSubnets?: string[];
  owners?: Record<string, string[]>;
  /** certificate groups (station, owner-NAME, lighthouse) -> those stations' addresses and node subnets */
  groups?: Record<string, string[]>;
}

export function meshFactsFrom(info: MeshInfoView, peerViews: MeshPeerView[], self: { name: string; httpPort: number }): MeshFacts {
  const peers = peerViews.filter((p) => !p.revoked && p.name !== self.name);
  const facts: MeshFacts = {
    owner: info.owner,
    state: info.state,
    peers: peers.map((p) => ({ station: p.name, url: `http://${p.address}:${p.apiPort ?? self.httpPort}`, owner: p.owner })),
  };
  if (info.state !== 'up') return facts;
  // An owner's stations are their mesh addresses and the node subnets routed to them; so are the
  // members of a certificate group (every station's certificate: station, owner-OWNER, lighthouse).
  const owners: Record<string, string[]> = {};
  const groups: Record<string, string[]> = {};
  for (const p of peers) {
    const where = [p.address, ...(p.nodeSubnet ? [p.nodeSubnet] : [])];
    (owners[p.owner] ??= []).push(...where);
    for (const g of groupsFor(p.owner, p.lighthouse === true)) (groups[g] ??= []).push(...where);
  }
  for (const list of [...Object.values(owners), ...Object.values(groups)]) list.sort();
  const nodeSubnets = peers.flatMap((p) => (p.nodeSubnet ? [p.nodeSubnet] : [])).sort();
  const meshAddress = info.address ? { meshAddress: info.address } : {};
  return { ...facts, meshInterface: info.nebula.tunDev, ...meshAddress, meshSubnets: [MESH_NETWORK, ...nodeSubnets], owners, groups };
}

/**
 * Addresses of nodes on other stations, from the names they publish: `NAME.STATION` always, and
 * plain `NAME` when only one station has a node of that name.
 */
export function remoteNodeDirectory(records: AliasRecord[], self: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const byName = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.kind !== 'node' || r.station === self) continue;
    out[`${r.node}.${r.station}`] = [r.address];
    const set = byName.get(r.node) ?? new Set<string>();
    set.add(r.address);
    byName.set(r.node, set);
  }
  for (const [name, addresses] of byName) if (addresses.size === 1) out[name] = [...addresses];
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
