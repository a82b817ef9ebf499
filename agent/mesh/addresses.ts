// Mesh addresses. Every station's certificate carries an address in 100.64.0.0/10 with the /10 as
// its network, so one tun route covers the whole community. Each owner's authority allocates from
// its own /16 (chosen from its CA fingerprint) so the stations of owners who trust each other do not
// collide by accident; inside that block the authority alone allocates, so addresses never repeat.
import { CapacityError, ValidationError } from '../errors.ts';

export const MESH_NETWORK = '100.64.0.0/10';
export const MESH_PREFIX_LENGTH = 10;

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new ValidationError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(base!) & mask) >>> 0);
}

/** The owner's /16 inside 100.64.0.0/10, derived from the CA fingerprint (hex). */
export function ownerBlock(caFingerprint: string): string {
  const byte = parseInt(caFingerprint.slice(0, 2), 16);
  if (!Number.isInteger(byte)) throw new ValidationError(`not a fingerprint: ${JSON.stringify(caFingerprint)}`);
  return `100.${64 + (byte % 64)}.0.0/16`;
}

/** The lowest free host address of `block` (the first is the authority's). Skips .0 and .255 hosts. */
export function allocateAddress(block: string, used: Iterable<string>): string {
  const [base, bits] = block.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base!);
  const taken = new Set([...used].map(ipToInt));
  for (let n = start + 1; n < start + size - 1; n++) {
    const last = n & 255;
    if (last === 0 || last === 255) continue;
    if (!taken.has(n)) return intToIp(n);
  }
  throw new CapacityError('MESH_ADDRESSES_EXHAUSTED', `no free mesh address left in ${block}`);
}
