// Binds the nodes' Nebula firewall entries to CAs and their ranges. Pure.
//
// In a Nebula 1.6 rule, `ca_sha` is ANDed with the rest while `host`, `group` and `cidr` are
// alternatives; an entry without `ca_sha` matches a certificate of any trusted CA. Another owner's
// CA can sign any mesh address (ca-ranges.ts), so an unbound entry would admit its certificate
// carrying one of our addresses, and nftables behind Nebula, which only sees that address, would
// take it for ours. So every entry for other owners is rewritten per trusted CA into `cidr` (its
// ranges, narrowed to what the entry names) plus `ca_sha`. Our own CA needs none: a separate rule
// already admits its certificates to everything.
import { cidrsOverlap, cidrWithin } from './addresses.ts';
import { ownerOfGroup } from '../lib/cert-groups.ts';

/** One Nebula firewall rule as the config file has it (nebula-config.ts renders them). */
export interface NebulaFirewallEntry {
  port: string;
  proto: string;
  host?: string;
  group?: string;
  cidr?: string;
  local_cidr?: string;
  ca_sha?: string;
}

export interface CaScope {
  fingerprint: string;
  ranges: string[];
}

/** The smaller of two overlapping CIDRs (CIDRs that overlap always nest). */
const narrower = (a: string, b: string): string => (cidrWithin(a, b) ? a : b);

function forCa(e: NebulaFirewallEntry, ca: CaScope): NebulaFirewallEntry[] {
  const { host, group, cidr, ...rest } = e;
  // A group says nothing about addresses; it can only be narrowed to the CA.
  if (group !== undefined) return [{ ...rest, group, ca_sha: ca.fingerprint }];
  if (cidr !== undefined) return ca.ranges.filter((r) => cidrsOverlap(r, cidr)).map((r) => ({ ...rest, cidr: narrower(r, cidr), ca_sha: ca.fingerprint }));
  if (host === 'any') return ca.ranges.map((r) => ({ ...rest, cidr: r, ca_sha: ca.fingerprint }));
  return host === undefined ? [] : [{ ...rest, host, ca_sha: ca.fingerprint }];
}

/**
 * `owners`: owner name -> CA fingerprint (this owner's and trusted ones). An `owner-NAME` group is
 * that owner's CA, so it becomes that CA's ranges; it is dropped when NAME is not trusted. Entries
 * already naming a CA are kept as given.
 */
export function bindToCas(entries: NebulaFirewallEntry[], own: string, trusted: CaScope[], owners: Record<string, string>): NebulaFirewallEntry[] {
  const out: NebulaFirewallEntry[] = [];
  for (const e of entries) {
    if (e.ca_sha) {
      out.push(e);
      continue;
    }
    const owner = ownerOfGroup(e.group ?? '');
    if (owner !== undefined) {
      const fingerprint = owners[owner];
      const ca = trusted.find((t) => t.fingerprint === fingerprint);
      if (fingerprint === own) out.push({ ...e, ca_sha: own });
      else if (ca) out.push(...forCa({ ...e, group: undefined, host: 'any' }, ca));
      continue;
    }
    for (const ca of trusted) out.push(...forCa(e, ca));
  }
  return out;
}
