// Finds the station's LAN side from the routing table: the interfaces that carry a default route
// and the subnets on them. Pure parser over `ip -j -4 route show` and `ip -j -4 addr show`.
import { mergeCidrs } from './nft-match.ts';
import { intToIpv4, ipv4ToInt } from '../lib/ipv4.ts';

export interface LanFacts {
  lanInterfaces: string[];
  lanSubnets: string[];
}

interface RouteEntry {
  dst?: string;
  dev?: string;
}
interface AddrEntry {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

export function parseLanFacts(routeJson: string, addrJson: string, exclude: string[]): LanFacts {
  const routes = JSON.parse(routeJson || '[]') as RouteEntry[];
  const addrs = JSON.parse(addrJson || '[]') as AddrEntry[];
  const skip = new Set(exclude);
  const lanInterfaces = [...new Set(routes.filter((r) => r.dst === 'default' && r.dev && !skip.has(r.dev)).map((r) => r.dev!))].sort();
  const subnets: string[] = [];
  for (const link of addrs) {
    if (!link.ifname || !lanInterfaces.includes(link.ifname)) continue;
    for (const info of link.addr_info ?? []) {
      if (info.family !== 'inet' || !info.local || info.prefixlen === undefined) continue;
      const ip = ipv4ToInt(info.local);
      if (ip === null) continue;
      const mask = info.prefixlen === 0 ? 0 : (0xffffffff << (32 - info.prefixlen)) >>> 0;
      subnets.push(`${intToIpv4((ip & mask) >>> 0)}/${info.prefixlen}`);
    }
  }
  return { lanInterfaces, lanSubnets: mergeCidrs(subnets) };
}
