// Small pure helpers that turn policy pieces into nftables match expressions.
import type { PeerDirectory } from './types.ts';
import type { Peer } from './peer.ts';
import { ipv4ToInt, parseCidr, type ParsedCidr } from '../lib/ipv4.ts';

export interface PortRule {
  ports?: number[];
  proto?: 'tcp' | 'udp';
}

/** `meta l4proto tcp th dport { 80, 443 }`; a rule without ports or proto matches every protocol. */
export function portMatch(rule: PortRule): string {
  if (!rule.ports?.length) return rule.proto ? `meta l4proto ${rule.proto}` : '';
  const ports = [...new Set(rule.ports)].sort((a, b) => a - b);
  return `meta l4proto ${rule.proto ?? 'tcp'} th dport ${ports.length === 1 ? ports[0] : `{ ${ports.join(', ')} }`}`;
}

export function portWords(rule: PortRule): string {
  if (!rule.ports?.length) return rule.proto ? rule.proto : 'any';
  return `${rule.proto ?? 'tcp'} ${[...new Set(rule.ports)].sort((a, b) => a - b).join(',')}`;
}

/** `{ a, b }` or `a`; null for an empty list (nftables has no empty anonymous set). */
export function addressSet(addresses: string[]): string | null {
  const list = mergeCidrs(addresses);
  if (!list.length) return null;
  return list.length === 1 ? list[0]! : `{ ${list.join(', ')} }`;
}

/** Canonical, sorted, without entries contained in others (CIDRs never partly overlap). */
export function mergeCidrs(items: string[]): string[] {
  const parsed = items.map((item) => parseCidr(item)).filter((p) => !('problem' in p)) as ParsedCidr[];
  parsed.sort((a, b) => a.prefix - b.prefix || a.base - b.base);
  const kept: { base: number; prefix: number }[] = [];
  for (const p of parsed) {
    const inside = kept.some((k) => {
      const mask = k.prefix === 0 ? 0 : (0xffffffff << (32 - k.prefix)) >>> 0;
      return (p.base & mask) >>> 0 === k.base;
    });
    if (!inside) kept.push(p);
  }
  kept.sort((a, b) => a.base - b.base || a.prefix - b.prefix);
  return kept.map((k) => (k.prefix === 32 ? intToText(k.base) : `${intToText(k.base)}/${k.prefix}`));
}

const intToText = (v: number): string => [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.');

/** The addresses a named peer stands for; local nodes first, then what the mesh told us. */
export function peerAddresses(peer: Peer, localNodes: Map<string, string>, directory: PeerDirectory): string[] {
  switch (peer.kind) {
    case 'node': {
      const local = localNodes.get(peer.name);
      return local ? [local] : Object.hasOwn(directory.nodes, peer.name) ? directory.nodes[peer.name]! : [];
    }
    case 'owner':
      return directory.owners[peer.name] ?? [];
    case 'group':
      return directory.groups[peer.name] ?? [];
    case 'cidr':
      return [peer.cidr];
    default:
      return [];
  }
}

/**
 * The address part of a rule: `ip daddr @lan`, `ip saddr { ... }`, or null when the peer has no
 * known address yet (the rule is then left out: it could only ever match nothing).
 */
export function addressMatch(peer: Peer, field: 'saddr' | 'daddr', localNodes: Map<string, string>, directory: PeerDirectory): string | null {
  switch (peer.kind) {
    case 'lan':
      return `ip ${field} @lan`;
    case 'mesh':
      return `ip ${field} @mesh`;
    case 'internet':
      return `ip ${field} != @not_internet`;
    case 'station':
      return null;
    default: {
      const set = addressSet(peerAddresses(peer, localNodes, directory));
      return set === null ? null : `ip ${field} ${set}`;
    }
  }
}

export const isIpv4 = (text: string): boolean => ipv4ToInt(text) !== null;

/** Interface match: `iifname { "eth0" }`, or "not the bridge / mesh" when no LAN interface is known. */
export function lanInterfaceMatch(field: 'iifname' | 'oifname', lanInterfaces: string[], exclude: string[]): string {
  const names = lanInterfaces.length ? lanInterfaces : exclude;
  const list = [...new Set(names)].sort().map((n) => `"${n}"`);
  const set = list.length === 1 ? list[0] : `{ ${list.join(', ')} }`;
  return lanInterfaces.length ? `${field} ${set}` : `${field} != ${set}`;
}
