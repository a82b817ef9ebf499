// Where an export listens, pure: the station's LAN addresses (on the interfaces that carry a default
// route, as the Network Node finds its LAN: agent/network/lan-facts.ts) and its mesh address.
import { parseLanFacts } from '../../network/lan-facts.ts';
import type { ExportOn } from './export-record.ts';

/** The mesh range (every owner's stations and nodes are in it): SMB shares on the mesh admit clients from here. */
export const MESH_RANGE = '100.64.0.0/10';

export interface StationAddresses {
  /** the station's IPv4 addresses on its LAN interfaces */
  lan: string[];
  /** the LAN subnets (SMB shares on the LAN admit clients from these) */
  lanSubnets: string[];
  /** its mesh address while the mesh is up (null otherwise) */
  mesh: string | null;
}

interface AddrEntry {
  ifname?: string;
  addr_info?: { family?: string; local?: string }[];
}

/** The LAN side from `ip -j -4 route show` and `ip -j -4 addr show`, leaving out the node bridge and the mesh device. */
export function parseLanAddresses(routeJson: string, addrJson: string, exclude: string[]): { lan: string[]; lanSubnets: string[] } {
  const facts = parseLanFacts(routeJson, addrJson, exclude);
  const lan: string[] = [];
  for (const link of JSON.parse(addrJson || '[]') as AddrEntry[]) {
    if (!link.ifname || !facts.lanInterfaces.includes(link.ifname)) continue;
    for (const info of link.addr_info ?? []) if (info.family === 'inet' && info.local) lan.push(info.local);
  }
  return { lan: [...new Set(lan)].sort(), lanSubnets: facts.lanSubnets };
}

/** The addresses an export on `on` listens on (empty: it cannot listen now), and why not when empty. */
export function listenAddresses(on: ExportOn, a: StationAddresses): { addresses: string[]; missing: string | null } {
  const addresses = [...(on !== 'mesh' ? a.lan : []), ...(on !== 'lan' && a.mesh ? [a.mesh] : [])];
  const missing: string[] = [];
  if (on !== 'mesh' && !a.lan.length) missing.push('this station has no LAN address (no interface with a default route)');
  if (on !== 'lan' && !a.mesh) missing.push('this station is not up in a mesh');
  return { addresses, missing: missing.length ? missing.join('; ') : null };
}

/** The client networks an SMB share on `on` admits (samba's `hosts allow`). */
export const clientNetworks = (on: ExportOn, a: StationAddresses): string[] => [...(on !== 'mesh' ? a.lanSubnets : []), ...(on !== 'lan' ? [MESH_RANGE] : [])];
