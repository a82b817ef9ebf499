// Mesh addresses. Every station's certificate carries an address in 100.64.0.0/10 with the /10 as
// its network, so one tun route covers the whole community. Each owner's authority allocates from
// its own /16 (chosen from its CA fingerprint) so the stations of owners who trust each other do not
// collide by accident; inside that block the authority alone allocates, so addresses never repeat.
import { CapacityError, ValidationError } from '../errors.ts';
import { cidrBounds, intToIpv4, ipv4ToInt } from '../lib/ipv4.ts';

export const MESH_NETWORK = '100.64.0.0/10';
export const MESH_PREFIX_LENGTH = 10;

/** An address as a number; refuses what is not IPv4 (400, like every bad input). */
function ipToInt(ip: string): number {
  const n = ipv4ToInt(ip);
  if (n === null) throw new ValidationError('INVALID_REQUEST', `not an IPv4 address: ${JSON.stringify(ip)}`);
  return n;
}

const intToIp = intToIpv4;

/** [first, last] address of a CIDR, as numbers; refuses what is not an IPv4 CIDR. */
function bounds(cidr: string): [number, number] {
  ipToInt(cidr.split('/')[0]!);
  const range = cidrBounds(cidr);
  if (!range) throw new ValidationError('INVALID_REQUEST', `not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  return range;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [first, last] = bounds(cidr);
  const n = ipToInt(ip);
  return first <= n && n <= last;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = bounds(a);
  const [b0, b1] = bounds(b);
  return a0 <= b1 && b0 <= a1;
}

/** True when every address of `inner` lies in `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
  const [i0, i1] = bounds(inner);
  const [o0, o1] = bounds(outer);
  return o0 <= i0 && i1 <= o1;
}

/** The owner's /16 inside 100.64.0.0/10, derived from the CA fingerprint (hex). */
export function ownerBlock(caFingerprint: string): string {
  const byte = parseInt(caFingerprint.slice(0, 2), 16);
  if (!Number.isInteger(byte)) throw new ValidationError('INVALID_REQUEST', `not a fingerprint: ${JSON.stringify(caFingerprint)}`);
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

/** Node subnets are /24s: 253 nodes per station, and the third octet names the station at a glance. */
export const NODE_SUBNET_PREFIX = 24;

/**
 * The owner's range of node subnets inside `pool`: one /16 chosen by `choice` (hex) when the pool
 * holds several (so owners who trust each other rarely collide), else the whole pool. `choice` is
 * a random byte for a new CA (its subnets limit names the range, so it is chosen before the CA
 * exists), the CA fingerprint for meshes made before CAs were limited.
 */
export function ownerNodeBlock(pool: string, choice: string): string {
  const [base, bitsText] = pool.split('/');
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 8 || bits > NODE_SUBNET_PREFIX)
    throw new ValidationError('INVALID_REQUEST', `the node pool ${pool} must be between /8 and /${NODE_SUBNET_PREFIX}`);
  const start = ipToInt(base!);
  if ((start & (2 ** (32 - bits) - 1)) >>> 0 !== 0) throw new ValidationError('INVALID_REQUEST', `the node pool ${pool} has host bits set`);
  if (bits >= 16) return pool;
  const byte = parseInt(choice.slice(0, 2), 16);
  if (!Number.isInteger(byte)) throw new ValidationError('INVALID_REQUEST', `not a hex choice: ${JSON.stringify(choice)}`);
  const blocks = 2 ** (16 - bits);
  return `${intToIp((start + (byte % blocks) * 65536) >>> 0)}/16`;
}

/** The lowest /24 of `block` that no station has (revoked stations keep theirs: never reused). */
export function allocateNodeSubnet(block: string, used: Iterable<string>): string {
  const [base, bits] = block.split('/');
  const count = 2 ** (NODE_SUBNET_PREFIX - Number(bits));
  const start = ipToInt(base!);
  const taken = new Set([...used].map((c) => c.split('/')[0]!));
  for (let i = 0; i < count; i++) {
    const candidate = intToIp((start + i * 256) >>> 0);
    if (!taken.has(candidate)) return `${candidate}/${NODE_SUBNET_PREFIX}`;
  }
  throw new CapacityError('MESH_NODE_SUBNETS_EXHAUSTED', `no free node subnet left in ${block}`);
}
