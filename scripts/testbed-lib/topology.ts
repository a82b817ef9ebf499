// The testbed's layout, pure: names and addresses for N stations, each behind its own home router
// (NAT), some behind a second, carrier-grade NAT, all joined by a simulated internet.
//   internet  198.18.0.0/15 bridge: home routers 198.18.0.i, carrier routers 198.18.1.i
//   station i LAN 198.19.i.0/24 (router .1, station .2); carrier i LAN 198.19.(100+i).0/24
//   station i nodes 198.19.(50+i).0/24 until it joins a mesh; then a /24 of 198.19.192.0/18 (its
//   authority's pool: 198.19.192.0/19 on odd stations, 198.19.224.0/19 on even ones)
// Every name starts with the testbed's prefix, so `down` can find what it made by name too.

export const API_PORT = 8088;
export const NEBULA_PORT = 4242;

export interface StationPlan {
  index: number;
  name: string;
  netns: string;
  router: string;
  /** the carrier-grade NAT namespace, for stations behind two layers of NAT */
  carrier: string | null;
  lanIp: string;
  routerLanIp: string;
  /** the router's internet-side address (home router), or the carrier's */
  publicIp: string;
  /** a forwarded port on the home router: reachable from the internet, so a lighthouse and relay */
  public: boolean;
  api: string;
}

export interface TestbedPlan {
  prefix: string;
  internet: string;
  bridge: string;
  stations: StationPlan[];
}

export interface PlanOptions {
  prefix: string;
  stations: number;
  /** how many of the last stations sit behind a second NAT layer */
  doubleNat?: number;
  /** how many of the first stations have a forwarded port (default 1) */
  publicStations?: number;
  names?: string[];
}

export function planTestbed(o: PlanOptions): TestbedPlan {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(o.prefix)) throw new Error(`testbed prefix must be 2-8 lower-case letters/digits starting with a letter (got ${o.prefix})`);
  if (!Number.isInteger(o.stations) || o.stations < 1 || o.stations > 90) throw new Error('--stations must be 1..90');
  const doubleNat = o.doubleNat ?? 0;
  const publicCount = o.publicStations ?? 1;
  if (doubleNat < 0 || doubleNat > o.stations - publicCount) throw new Error('--double-nat must leave the public stations behind one NAT');
  const stations: StationPlan[] = [];
  for (let i = 1; i <= o.stations; i++) {
    const double = i > o.stations - doubleNat;
    const name = o.names?.[i - 1] ?? `s${i}`;
    stations.push({
      index: i,
      name,
      netns: `${o.prefix}-${name}`,
      router: `${o.prefix}-r${i}`,
      carrier: double ? `${o.prefix}-c${i}` : null,
      lanIp: `198.19.${i}.2`,
      routerLanIp: `198.19.${i}.1`,
      publicIp: double ? `198.18.1.${i}` : `198.18.0.${i}`,
      public: i <= publicCount,
      api: `http://198.19.${i}.2:${API_PORT}`,
    });
  }
  return { prefix: o.prefix, internet: `${o.prefix}-inet`, bridge: `${o.prefix}br`, stations };
}

/**
 * nftables rules of a home router: masquerade out, port forwards when the station is public, and
 * the usual home-router firewall: unsolicited packets to the router itself are dropped. Dropping
 * them matters for hole punching: an unanswered inbound punch would otherwise leave a conntrack
 * entry that clashes with the station's own outbound punch, and the NAT would then pick another port.
 */
export function homeRouterRules(s: StationPlan, wan: string): string {
  const forwards = s.public
    ? [`    iifname "${wan}" udp dport ${NEBULA_PORT} dnat to ${s.lanIp}`, `    iifname "${wan}" tcp dport ${API_PORT} dnat to ${s.lanIp}`]
    : [];
  const pre = ['  chain pre {', '    type nat hook prerouting priority -100;', ...forwards, '  }'];
  return routerTable(wan, pre, 'masquerade');
}

/** A carrier-grade NAT: a fresh random port per destination, so hole punching through it fails. */
export function carrierRules(wan: string): string {
  return routerTable(wan, [], 'masquerade fully-random');
}

/** A router's nftables table: the `pre` chains, then `masquerade` (with its options) out of `wan`, and packets from
 * `wan` that would open a new connection to the router itself dropped. */
function routerTable(wan: string, pre: string[], masquerade: string): string {
  return [
    'table ip testbed {',
    ...pre,
    '  chain post {',
    '    type nat hook postrouting priority 100;',
    `    oifname "${wan}" ${masquerade}`,
    '  }',
    '  chain in {',
    '    type filter hook input priority 0;',
    `    iifname "${wan}" ct state new drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}
