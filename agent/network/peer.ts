// Parses the peer words of a policy (`to` / `from`): lan, mesh, internet, station, node:NAME,
// owner:NAME, group:NAME or an IPv4 CIDR. Pure; the validator turns a null into a clear error.

export type Peer =
  | { kind: 'lan' }
  | { kind: 'mesh' }
  | { kind: 'internet' }
  | { kind: 'station' }
  | { kind: 'node'; name: string }
  | { kind: 'owner'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'cidr'; cidr: string };

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/;

export interface PeerProblem { problem: string }

/** Parses one peer word; returns a problem (in words) when it is not one. */
export function parsePeer(text: string): Peer | PeerProblem {
  if (text === 'lan' || text === 'mesh' || text === 'internet' || text === 'station') return { kind: text };
  const colon = text.indexOf(':');
  if (colon > 0) {
    const prefix = text.slice(0, colon);
    const name = text.slice(colon + 1);
    if (prefix === 'node' || prefix === 'owner' || prefix === 'group') {
      if (!NAME.test(name)) return { problem: `"${name}" is not a valid ${prefix} name (lower-case letters, digits and dashes)` };
      return { kind: prefix, name };
    }
    return { problem: `unknown peer kind "${prefix}:" (expected node:, owner: or group:)` };
  }
  if (/^[0-9./]+$/.test(text)) {
    const cidr = parseCidr(text);
    return 'problem' in cidr ? cidr : { kind: 'cidr', cidr: cidr.cidr };
  }
  return { problem: `unknown keyword "${text}" (expected lan, mesh, internet, station, node:NAME, owner:NAME, group:NAME or an IPv4 CIDR)` };
}

export const isPeerProblem = (p: Peer | PeerProblem): p is PeerProblem => 'problem' in p;

/** An IPv4 address as a 32-bit number, or null. */
export function ipv4ToInt(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

/** Checks an IPv4 CIDR ("a.b.c.d/n"; a bare address means /32) and returns it in canonical form. */
export function parseCidr(text: string): { cidr: string; base: number; prefix: number } | PeerProblem {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return { problem: `"${text}" is not an IPv4 CIDR` };
  const base = ipv4ToInt(address);
  if (base === null) return { problem: `"${text}" is not an IPv4 CIDR (bad address)` };
  const prefix = prefixText === undefined ? 32 : /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= 32)) return { problem: `"${text}" is not an IPv4 CIDR (prefix must be 0 to 32)` };
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if (((base & mask) >>> 0) !== base) return { problem: `"${text}" has host bits set; did you mean ${intToIpv4((base & mask) >>> 0)}/${prefix}?` };
  return { cidr: `${address}/${prefix}`, base, prefix };
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** True when the address lies inside the CIDR (both already checked). */
export function cidrContains(cidr: string, address: string): boolean {
  const parsed = parseCidr(cidr);
  const ip = ipv4ToInt(address);
  if ('problem' in parsed || ip === null) return false;
  const mask = parsed.prefix === 0 ? 0 : (0xffffffff << (32 - parsed.prefix)) >>> 0;
  return ((ip & mask) >>> 0) === parsed.base;
}

/** True when two CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if ('problem' in pa || 'problem' in pb) return false;
  const prefix = Math.min(pa.prefix, pb.prefix);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((pa.base & mask) >>> 0) === ((pb.base & mask) >>> 0);
}
