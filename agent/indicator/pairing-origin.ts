// Who may take a session in a pairing window: someone on the station's LAN (or at the box itself).
// Not a mesh peer (100.64.0.0/10, over Nebula), not a node (the node subnets, or anything arriving
// on the node bridge), not an address routed in from elsewhere: the caller must be inside the
// subnet of one of the station's own LAN interfaces, as os.networkInterfaces() lists them. The link
// button is pressed by someone standing at the box; the session should go to someone near it.
import { BlockList, isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { MESH_NETWORK } from '../mesh/addresses.ts';

export interface OriginRules {
  interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** the node bridge and the Nebula tun: their subnets are no LAN */
  bridge: string;
  meshTun: string;
  /** node subnets (this station's, the owner's node pool) */
  nodeNetworks: string[];
}

// Interfaces the agent (or LXC) makes; a request arriving on one is from a node or the mesh.
const AGENT_INTERFACES = /^(veth|lxcbr|stbr|nebula)/;

const plain = (address: string): string => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
const family = (address: string): 'ipv4' | 'ipv6' | null => (isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : null);

function blockList(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [base, bits] = cidr.split('/');
    const type = family(base ?? '');
    if (type && bits !== undefined) list.addSubnet(base!, Number(bits), type);
  }
  return list;
}

/** Why this caller may not pair (a sentence), or null when it may. `remote`/`local` as the socket reports them. */
export function pairingRefusal(remote: string, local: string | undefined, rules: OriginRules): string | null {
  const from = plain(remote);
  const to = plain(local ?? '');
  const type = family(from);
  if (!type) return "the caller's address is unknown";
  const loopback = blockList(['127.0.0.0/8', '::1/128']);
  if (loopback.check(from, type)) return null;
  const mesh = blockList([MESH_NETWORK]);
  if (mesh.check(from, type) || (family(to) && mesh.check(to, family(to)!)))
    return "pairing is not offered over the mesh: press the link button and pair from a browser on this station's LAN";
  const nodes = blockList(rules.nodeNetworks);
  if (nodes.check(from, type) || (family(to) && nodes.check(to, family(to)!)))
    return "pairing is not offered to nodes: pair from a browser on this station's LAN";
  if (type === 'ipv6' && blockList(['fe80::/10']).check(from, 'ipv6'))
    return "the caller is not on this station's LAN (an IPv6 link-local address: use the station's IPv4 or global address)";
  const lans: string[] = [];
  for (const [name, addresses] of Object.entries(rules.interfaces())) {
    if (name === rules.bridge || name === rules.meshTun || AGENT_INTERFACES.test(name)) continue;
    for (const a of addresses ?? []) if (!a.internal && a.cidr) lans.push(a.cidr);
  }
  if (!blockList(lans).check(from, type)) return "the caller is not on this station's LAN: pairing is for a browser on the same network as the station";
  return null;
}
