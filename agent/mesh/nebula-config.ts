// Nebula's config, rendered from the mesh state by a pure function (golden-file tested). Changing
// what this returns changes every station's mesh, so the shape is pinned by test/fixtures/nebula/.
import { isIPv4 } from 'node:net';
import { inCidr, MESH_NETWORK } from './addresses.ts';
import { isEndpoint } from './endpoint.ts';
import { bindToCas, type NebulaFirewallEntry } from './firewall-binding.ts';
import { toYaml, type YamlValue } from './yaml.ts';

/** Nebula's tun MTU: what a packet between stations may carry (tunnels inside nodes must fit in it). */
export const MESH_MTU = 1300;

export interface FirewallAllow {
  port: string;
  proto: 'tcp' | 'udp' | 'icmp' | 'any';
}

export interface NebulaConfigInput {
  /** files: CA bundle (own + trusted), this station's certificate and key */
  caFile: string;
  certFile: string;
  keyFile: string;
  listenPort: number;
  tunDev: string;
  /** this station has a reachable endpoint: it serves as lighthouse and relay */
  amLighthouse: boolean;
  /** the mesh's lighthouses (this station may be among them; it is left out of its own list) */
  lighthouses: { address: string; endpoints: string[] }[];
  selfAddress: string;
  /** fingerprints of revoked certificates */
  blocklist: string[];
  ownCaFingerprint: string;
  /** the station API's port: other owners may reach it (its public reads) */
  apiPort: number;
  /** other owners' CAs this station trusts, what their stations may reach, and from where: their ranges (ca-ranges.ts) */
  trusted: { fingerprint: string; allow: FirewallAllow[]; ranges: string[] }[];
  /** firewall entries for the station's nodes, from the Network Node (agent/network/nebula-firewall.ts) */
  nodes?: { inbound: NebulaFirewallEntry[]; outbound: NebulaFirewallEntry[] };
  /** local subnets never advertised to lighthouses (the node bridge: the same default subnet on every station) */
  unadvertised?: string[];
  /** other stations' node subnets, routed to them through the tunnel (their certificates carry them) */
  unsafeRoutes?: { route: string; via: string }[];
  /** owner name -> CA fingerprint (this owner and trusted ones), to bind owner-NAME groups to their CA */
  ownerCas?: Record<string, string>;
}

/** A Nebula firewall entry as given (port, proto and who: host, group, cidr, local_cidr, ca_sha). */
export type { NebulaFirewallEntry } from './firewall-binding.ts';

const entry = (e: NebulaFirewallEntry): { [key: string]: string } =>
  Object.fromEntries(Object.entries(e).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));

/** A lighthouse address Nebula can use: an IPv4 address in the mesh (it is a key of the host map). */
const isMeshAddress = (address: string): boolean => isIPv4(address) && inCidr(address, MESH_NETWORK);

export function renderNebulaConfig(input: NebulaConfigInput): string {
  // Lighthouses and their endpoints come from other stations: whatever reached the state, only
  // well-formed ones reach Nebula (the entry points refuse the rest with a clear error).
  const others = input.lighthouses
    .filter((l) => l.address !== input.selfAddress && isMeshAddress(l.address))
    .map((l) => ({ address: l.address, endpoints: l.endpoints.filter(isEndpoint) }));
  const staticHostMap: { [key: string]: YamlValue } = {};
  for (const l of others) if (l.endpoints.length) staticHostMap[l.address] = [...l.endpoints];
  // Every rule but ping names a CA (ca_sha). Another owner's CA can sign any mesh address (Nebula
  // 1.6 cannot limit it to its owner's /16), so each rule for it also names its ranges (cidr): a
  // certificate of it carrying one of our addresses matches nothing (ca-ranges.ts).
  const own = { port: 'any', proto: 'any', ca_sha: input.ownCaFingerprint };
  const theirs = (port: string, proto: string): YamlValue[] =>
    input.trusted.flatMap((t) => t.ranges.map((cidr) => ({ port, proto, cidr, ca_sha: t.fingerprint })));
  const inbound: YamlValue[] = [
    // Reachability checks (ping) work across the whole community; a ping carries nothing to abuse.
    { port: 'any', proto: 'icmp', host: 'any' },
    // The owner's own stations may reach everything: the rule matches only certificates signed by
    // the owner's CA, so another owner's CA cannot grant itself access with a group name.
    own,
    // The rest of the community: the station API, whose reads are public; its mutations need the
    // admin token or the caller's mesh identity (our range only: identity.ts).
    ...theirs(String(input.apiPort), 'tcp'),
  ];
  for (const t of input.trusted) {
    for (const a of t.allow) inbound.push(...t.ranges.map((cidr) => ({ port: a.port, proto: a.proto, cidr, ca_sha: t.fingerprint })));
  }
  // The nodes' mesh-facing policies (ingress, ports exposed on the mesh), bound to each trusted CA
  // and its ranges; nftables on the station narrows each to its node. An owner-NAME group stands
  // for NAME's CA (any trusted CA could sign the name), and is dropped when NAME is not trusted.
  const scopes = input.trusted.map((t) => ({ fingerprint: t.fingerprint, ranges: t.ranges }));
  const bind = (list: NebulaFirewallEntry[] | undefined) => bindToCas(list ?? [], input.ownCaFingerprint, scopes, input.ownerCas ?? {}).map(entry);
  inbound.push(...bind(input.nodes?.inbound));
  // Outbound: the station's own traffic (the station API between stations, pings) goes to our own
  // stations and to other owners' stations at their ranges only, so a tunnel that another owner's
  // certificate holds for one of our addresses (it answered a handshake or a lighthouse query in
  // our station's place) carries nothing of ours. The nodes' egress rules are listed too (bound
  // the same way) and enforced per node by nftables.
  const outbound: YamlValue[] = [own, ...theirs('any', 'any'), ...bind(input.nodes?.outbound)];
  // Peers would otherwise try this station at its node bridge address: an inside address, never an
  // underlay one (and before joining, every station has the same default node subnet).
  const localAllow: { [key: string]: YamlValue } = {};
  for (const cidr of input.unadvertised ?? []) localAllow[cidr] = false;
  return toYaml({
    pki: { ca: input.caFile, cert: input.certFile, key: input.keyFile, blocklist: [...input.blocklist].sort() },
    static_host_map: staticHostMap,
    lighthouse: {
      am_lighthouse: input.amLighthouse,
      // Seconds between this station's reports (its addresses and its relays) to the lighthouses.
      // A lighthouse that restarts has forgotten every station until its next report, and every
      // join restarts every lighthouse (new routes: Nebula 1.6 cannot reload them); until then a
      // station behind NAT cannot be found through a relay. Nebula's own default, 10 s, keeps that
      // short (the example config's 60 s kept a relayed pair apart for up to a minute per join).
      interval: 10,
      hosts: input.amLighthouse ? [] : others.map((l) => l.address),
      local_allow_list: localAllow,
    },
    listen: { host: '0.0.0.0', port: input.listenPort },
    // Hole punching behind home NAT: punch back when a peer tries, and keep NAT mappings alive.
    punchy: { punch: true, respond: true, delay: '1s' },
    // Stations with a reachable endpoint relay for those behind NAT that cannot punch (double NAT).
    relay: {
      am_relay: input.amLighthouse,
      use_relays: true,
      relays: others.map((l) => l.address),
    },
    tun: {
      disabled: false,
      dev: input.tunDev,
      drop_local_broadcast: true,
      drop_multicast: true,
      tx_queue: 500,
      mtu: MESH_MTU,
      ...(input.unsafeRoutes?.length
        ? {
            unsafe_routes: [...input.unsafeRoutes].sort((a, b) => a.route.localeCompare(b.route)).map((r) => ({ route: r.route, via: r.via })),
          }
        : {}),
    },
    logging: { level: 'info', format: 'json' },
    firewall: {
      conntrack: { tcp_timeout: '12m', udp_timeout: '3m', default_timeout: '10m' },
      outbound,
      inbound,
    },
  });
}
