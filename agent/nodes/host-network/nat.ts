// Egress NAT for nodes: a small nftables table of its own (`ip station_nat`), with one chain per
// node bridge, replaced atomically in one `nft -f` transaction. Other tables are never touched.
// Pure: renders the nft script.
import type { NodeNetworkSetup } from '../driver.ts';

export const NAT_TABLE = 'station_nat';

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function assertCidr(value: string, what: string): void {
  const m = CIDR4.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)
    throw new Error(`${what} must be an IPv4 CIDR (a.b.c.d/n), got ${JSON.stringify(value)}`);
}

export const natChain = (bridge: string): string => `post_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;

/**
 * The nft script: make sure the table and this bridge's chain exist, then flush the chain and
 * write its one rule. Applying it twice gives the same ruleset (idempotent); nft applies the whole
 * script as one transaction (atomic).
 */
export function renderNatScript(setup: NodeNetworkSetup): string {
  if (!IFNAME.test(setup.bridge)) throw new Error(`invalid bridge name ${JSON.stringify(setup.bridge)}`);
  assertCidr(setup.subnet, 'subnet');
  const chain = natChain(setup.bridge);
  const routed = setup.routedInterfaces ?? [];
  for (const name of routed) if (!IFNAME.test(name)) throw new Error(`invalid interface name ${JSON.stringify(name)}`);
  const keep = [setup.bridge, ...routed].map((n) => `"${n}"`);
  return [
    `add table ip ${NAT_TABLE}`,
    `add chain ip ${NAT_TABLE} ${chain} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain ip ${NAT_TABLE} ${chain}`,
    // nodes reach beyond the station masqueraded behind it; node-to-node traffic stays on the bridge
    // untouched, and so does traffic to other stations' nodes over the mesh (they route our subnet)
    `add rule ip ${NAT_TABLE} ${chain} ip saddr ${setup.subnet} oifname != ${keep.length > 1 ? `{ ${keep.join(', ')} }` : keep[0]} masquerade`,
    '',
  ].join('\n');
}
