// Address management for nodes, pure: the node subnet's first host is the gateway (and the nodes'
// DNS server); every node gets a static address of its own. A node's address is chosen once
// (preferring a slot derived from its name, so the same name tends to get the same address even
// after delete and create) and stored with the node, so it survives restarts and recreate.
import { CapacityError, ValidationError } from '../errors.ts';
import { intToIpv4, ipv4ToInt } from '../lib/ipv4.ts';

export interface Subnet {
  /** network address as a 32-bit number */
  network: number;
  prefix: number;
  /** number of addresses, network and broadcast included */
  size: number;
}

export function ipToInt(ip: string): number {
  const n = ipv4ToInt(ip);
  if (n === null) throw new ValidationError('INVALID_REQUEST', `${ip} is not an IPv4 address`);
  return n;
}

export const intToIp = intToIpv4;

export function parseSubnet(cidr: string): Subnet {
  const [ip, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  if (!ip || !Number.isInteger(prefix) || prefix < 8 || prefix > 29)
    throw new ValidationError('INVALID_REQUEST', `node subnet ${cidr} must be an IPv4 CIDR with a prefix between /8 and /29`);
  const size = 2 ** (32 - prefix);
  const value = ipToInt(ip);
  const network = value - (value % size);
  if (network !== value) throw new ValidationError('INVALID_REQUEST', `node subnet ${cidr} has host bits set (did you mean ${intToIp(network)}/${prefix}?)`);
  return { network, prefix, size };
}

/** The gateway: the subnet's first host address (the station's address on the node bridge). */
export function gatewayOf(subnet: Subnet): string {
  return intToIp(subnet.network + 1);
}

export function inSubnet(subnet: Subnet, ip: string): boolean {
  const n = ipToInt(ip);
  return n > subnet.network + 1 && n < subnet.network + subnet.size - 1;
}

/** A stable 32-bit hash of the node's name (FNV-1a). */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The address for a new node: its name's preferred slot, else the next free one after it.
 * Never the network, gateway or broadcast address, never one in `taken`.
 */
export function allocateAddress(subnet: Subnet, name: string, taken: Iterable<string>): string {
  const used = new Set<number>();
  for (const ip of taken) used.add(ipToInt(ip));
  const first = subnet.network + 2;
  const hosts = subnet.size - 3; // minus network, gateway, broadcast
  const start = nameHash(name) % hosts;
  for (let i = 0; i < hosts; i++) {
    const candidate = first + ((start + i) % hosts);
    if (!used.has(candidate)) return intToIp(candidate);
  }
  throw new CapacityError('NO_FREE_ADDRESS', `no free address left in the node subnet ${intToIp(subnet.network)}/${subnet.prefix} (${hosts} nodes at most)`);
}

/** The network settings the driver needs for one node. */
export function nodeNetwork(subnet: Subnet, address: string, bridge: string): { bridge: string; address: string; gateway: string; dns: string[] } {
  const gateway = gatewayOf(subnet);
  return { bridge, address: `${address}/${subnet.prefix}`, gateway, dns: [gateway] };
}

/**
 * Addresses for the same nodes in another subnet (the station joined a mesh, which allocated it
 * one): each keeps its host number where it fits, the rest get free slots. Pure.
 */
export function readdress(from: Subnet, to: Subnet, nodes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const taken: string[] = [];
  const later: string[] = [];
  for (const [name, address] of Object.entries(nodes).sort(([a], [b]) => a.localeCompare(b))) {
    const host = ipToInt(address) - from.network;
    const candidate = to.network + host;
    const ip = intToIp(candidate);
    if (host > 1 && host < to.size - 1 && !taken.includes(ip)) {
      out[name] = ip;
      taken.push(ip);
    } else later.push(name);
  }
  for (const name of later) {
    out[name] = allocateAddress(to, name, taken);
    taken.push(out[name]!);
  }
  return out;
}
