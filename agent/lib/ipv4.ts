// IPv4 addresses and CIDRs as numbers: the one parser every room uses (mesh addresses, node
// subnets, policy peers, LAN facts). Pure and non-throwing: each caller turns a null or a problem
// into its own error, so the words people see and the error codes stay what each room promised.

export interface Ipv4Problem {
  problem: string;
}
export interface ParsedCidr {
  cidr: string;
  base: number;
  prefix: number;
}

/** An IPv4 address (four decimal parts of 0-255) as a 32-bit number, or null. */
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

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The network mask of a prefix length (0-32) as a 32-bit number. */
export const prefixMask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** Checks an IPv4 CIDR ("a.b.c.d/n"; a bare address means /32) and returns it in canonical form. */
export function parseCidr(text: string): ParsedCidr | Ipv4Problem {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return { problem: `"${text}" is not an IPv4 CIDR` };
  const base = ipv4ToInt(address);
  if (base === null) return { problem: `"${text}" is not an IPv4 CIDR (bad address)` };
  const prefix = prefixText === undefined ? 32 : /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= 32)) return { problem: `"${text}" is not an IPv4 CIDR (prefix must be 0 to 32)` };
  const mask = prefixMask(prefix);
  if ((base & mask) >>> 0 !== base) return { problem: `"${text}" has host bits set; did you mean ${intToIpv4((base & mask) >>> 0)}/${prefix}?` };
  return { cidr: `${address}/${prefix}`, base, prefix };
}

export const isIpv4Problem = (value: object): value is Ipv4Problem => 'problem' in value;

/**
 * First and last address of the block an address/prefix pair lies in (host bits ignored), or null
 * when either part is not IPv4.
 */
export function cidrBounds(text: string): [number, number] | null {
  const [address, prefixText, extra] = text.split('/');
  const base = ipv4ToInt(address ?? '');
  const prefix = prefixText !== undefined && /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (extra !== undefined || base === null || !(prefix >= 0 && prefix <= 32)) return null;
  const first = (base & prefixMask(prefix)) >>> 0;
  return [first, first + 2 ** (32 - prefix) - 1];
}

/** True when the address lies inside the CIDR; false when either is not IPv4. */
export function cidrContains(cidr: string, address: string): boolean {
  const bounds = cidrBounds(cidr.includes('/') ? cidr : `${cidr}/32`);
  const ip = ipv4ToInt(address);
  return bounds !== null && ip !== null && bounds[0] <= ip && ip <= bounds[1];
}

/** True when two CIDRs share any address; false when either is not IPv4. */
export function cidrsOverlap(a: string, b: string): boolean {
  const pa = cidrBounds(a.includes('/') ? a : `${a}/32`);
  const pb = cidrBounds(b.includes('/') ? b : `${b}/32`);
  return pa !== null && pb !== null && pa[0] <= pb[1] && pb[0] <= pa[1];
}

/** True when every address of `inner` lies in `outer`; false when either is not IPv4. */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = cidrBounds(inner.includes('/') ? inner : `${inner}/32`);
  const o = cidrBounds(outer.includes('/') ? outer : `${outer}/32`);
  return i !== null && o !== null && o[0] <= i[0] && i[1] <= o[1];
}
