// The Network Node compiler: every node's policy plus the station's facts in, ONE nftables
// ruleset out, for the tables the agent owns (`table inet station`, and `table bridge station`
// binding each node's address to its bridge port). The text first creates and deletes each table
// (so `nft -f` works whether it exists or not), then declares it whole: one atomic transaction
// that never touches another table. Pure: golden-file tests pin the output.
//
// How a packet is judged (forward hook):
//  - replies of tracked flows and related ICMP pass; every packet in a flow's ORIGINAL direction is
//    judged by the policy again, so removing a rule stops its flows while other flows go on
//    untouched by a re-apply (conntrack state survives the table swap);
//  - from a node: its egress chain (allowed -> return, else counted drop);
//  - to a node: its ingress chain (allowed -> accept, else counted drop);
//    node to node needs both the sender's egress and the receiver's ingress.
// Input hook, from the bridge: DNS and ping to the gateway, then only the node's `to: station`
// rules; everything else a node sends to the station's own addresses (the admin API) is dropped.
// Input hook, to the station's mesh address: only through the mesh interface (or lo); from the
// LAN or the bridge it is dropped.
import type { CompileInput, CompiledRuleset, CounterInfo, NodeNetwork } from './types.ts';
import { EMPTY_DIRECTORY } from './types.ts';
import { parsePeer, type Peer } from './peer.ts';
import { addressMatch, lanInterfaceMatch, mergeCidrs, portMatch, portWords, type PortRule } from './nft-match.ts';

export const TABLE = 'station';

/** A node counter's name is n.NODE.<this>.<rule index, or drop> (the metrics and the page read it). */
const DIRECTION_IN_NAME = { egress: 'eg', ingress: 'in', expose: 'ex', station: 'st' } as const;
type NodeDirection = keyof typeof DIRECTION_IN_NAME;

/** Never "internet": private, shared, loopback, link-local and multicast ranges. */
export const NOT_INTERNET_BASE = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/3',
];

class Builder {
  readonly counters: CounterInfo[] = [];
  readonly seed: CompileInput['counterSeed'];
  constructor(seed: CompileInput['counterSeed']) {
    this.seed = seed;
  }
  /** Registers a named counter and returns the `counter name X` statement. */
  counter(info: CounterInfo): string {
    this.counters.push(info);
    return `counter name ${info.name}`;
  }
  /** The counter of a node's rule number `which` in one direction (it allows), or of that direction's default drop. */
  nodeCounter(node: string, direction: NodeDirection, which: number | 'drop', rule: string): string {
    return this.counter({ name: `n.${node}.${DIRECTION_IN_NAME[direction]}.${which}`, node, direction, verdict: which === 'drop' ? 'drop' : 'allow', rule });
  }
  declarations(): string[] {
    return this.counters.map((c) => {
      const v = this.seed?.[c.name];
      return v ? `\tcounter ${c.name} { packets ${v.packets} bytes ${v.bytes} }` : `\tcounter ${c.name} { }`;
    });
  }
}

const join = (...parts: (string | null | undefined)[]): string => parts.filter((p) => p).join(' ');

function setDecl(name: string, items: string[]): string[] {
  const elements = mergeCidrs(items);
  return [`\tset ${name} {`, '\t\ttype ipv4_addr', '\t\tflags interval', ...(elements.length ? [`\t\telements = { ${elements.join(', ')} }`] : []), '\t}'];
}

/**
 * One allow rule of a node about a peer: egress (to it: the destination, `return` to the forward
 * chain) or ingress (from it: the source, `accept`). A peer with no known address yet is a comment.
 */
function peerRule(
  b: Builder,
  node: string,
  direction: 'egress' | 'ingress',
  i: number,
  peer: string,
  rule: PortRule,
  locals: Map<string, string>,
  input: CompileInput,
): string {
  const [word, field, verdict] = direction === 'egress' ? (['to', 'daddr', 'return'] as const) : (['from', 'saddr', 'accept'] as const);
  const counter = b.nodeCounter(node, direction, i, `${word} ${peer} ${portWords(rule)}`);
  const addr = addressMatch(parsePeer(peer) as Peer, field, locals, input.directory ?? EMPTY_DIRECTORY);
  return addr === null ? `\t\t# ${word} ${peer}: no known address yet` : `\t\t${join(addr, portMatch(rule), counter, verdict)}`;
}

function egressChain(b: Builder, node: NodeNetwork, locals: Map<string, string>, input: CompileInput): string[] {
  const lines = [`\tchain eg.${node.name} {`];
  for (const [i, rule] of (node.policy.egress ?? []).entries()) {
    if ((parsePeer(rule.to) as Peer).kind === 'station') continue; // judged in the input chain
    lines.push(peerRule(b, node.name, 'egress', i, rule.to, rule, locals, input));
  }
  lines.push(`\t\t${b.nodeCounter(node.name, 'egress', 'drop', 'default deny')} drop`, '\t}');
  return lines;
}

function ingressChain(b: Builder, node: NodeNetwork, locals: Map<string, string>, input: CompileInput): string[] {
  const { facts } = input;
  const lines = [`\tchain in.${node.name} {`];
  for (const [i, rule] of (node.policy.expose ?? []).entries()) {
    const iface =
      rule.on === 'lan'
        ? lanInterfaceMatch('iifname', facts.lanInterfaces, [facts.bridge, ...(facts.meshInterface ? [facts.meshInterface] : [])])
        : facts.meshInterface
          ? `iifname "${facts.meshInterface}"`
          : null;
    const counter = b.nodeCounter(node.name, 'expose', i, `exposed on ${rule.on} port ${rule.port} -> ${rule.to}/${rule.proto ?? 'tcp'}`);
    if (iface === null) lines.push(`\t\t# expose on mesh port ${rule.port}: the station has no mesh interface`);
    else
      lines.push(
        `\t\t${join('ct status dnat', iface, `meta l4proto ${rule.proto ?? 'tcp'} th dport ${rule.to} ct original proto-dst ${rule.port}`, counter, 'accept')}`,
      );
  }
  for (const [i, rule] of (node.policy.ingress ?? []).entries()) {
    lines.push(peerRule(b, node.name, 'ingress', i, rule.from, rule, locals, input));
  }
  lines.push(`\t\t${b.nodeCounter(node.name, 'ingress', 'drop', 'default deny')} drop`, '\t}');
  return lines;
}

function stationChain(b: Builder, node: NodeNetwork): string[] {
  const lines = [`\tchain st.${node.name} {`];
  for (const [i, rule] of (node.policy.egress ?? []).entries()) {
    if (rule.to !== 'station') continue;
    const counter = b.nodeCounter(node.name, 'station', i, `to station ${portWords(rule)}`);
    lines.push(`\t\t${join(portMatch(rule), counter, 'accept')}`);
  }
  lines.push(`\t\t${b.nodeCounter(node.name, 'station', 'drop', 'station services: default deny')} drop`, '\t}');
  return lines;
}

function vmap(field: 'saddr', nodes: NodeNetwork[], prefix: string): string | null {
  if (!nodes.length) return null;
  return `ip ${field} vmap { ${nodes.map((n) => `${n.address} : goto ${prefix}.${n.name}`).join(', ')} }`;
}

function dispatch(name: string, field: 'saddr' | 'daddr', nodes: NodeNetwork[], prefix: string, dropCounter: string): string[] {
  const map = nodes.length ? `ip ${field} vmap { ${nodes.map((n) => `${n.address} : goto ${prefix}.${n.name}`).join(', ')} }` : null;
  return [`\tchain ${name} {`, ...(map ? [`\t\t${map}`] : []), `\t\t${dropCounter} drop`, '\t}'];
}

/**
 * `table bridge station`: a node may only send from its own address out of its own bridge port
 * (IPv4 and ARP). Without it a node could borrow a neighbour's address and with it the
 * neighbour's rights. Nodes whose port is not known are not bound.
 */
function antiSpoofTable(nodes: NodeNetwork[]): string[] {
  const bound = nodes.filter((n) => n.port);
  const ports = [...new Set(bound.map((n) => `"${n.port}"`))];
  return [
    `table bridge ${TABLE} {}`,
    `delete table bridge ${TABLE}`,
    `table bridge ${TABLE} {`,
    '\tset node_ports {',
    '\t\ttype ifname',
    ...(ports.length ? [`\t\telements = { ${ports.join(', ')} }`] : []),
    '\t}',
    '\tset bound {',
    '\t\ttype ifname . ipv4_addr',
    ...(bound.length ? [`\t\telements = { ${bound.map((n) => `"${n.port}" . ${n.address}`).join(', ')} }`] : []),
    '\t}',
    '\tcounter spoof.drop { }',
    '\tchain prerouting {',
    '\t\ttype filter hook prerouting priority filter; policy accept;',
    '\t\tiifname @node_ports ether type ip iifname . ip saddr != @bound counter name spoof.drop drop',
    '\t\tiifname @node_ports ether type arp iifname . arp saddr ip != @bound counter name spoof.drop drop',
    '\t}',
    '}',
  ];
}

/** Compiles all nodes' (already validated) policies into the ruleset text and its counter index. */
export function compileRuleset(input: CompileInput): CompiledRuleset {
  const { facts } = input;
  const nodes = [...input.nodes].sort((a, b) => a.name.localeCompare(b.name));
  const locals = new Map(nodes.map((n) => [n.name, n.address]));
  const b = new Builder(input.counterSeed);
  const meshIf = facts.meshInterface ? [facts.meshInterface] : [];

  const shared = {
    unknownSrc: b.counter({
      name: 'unknown.src.drop',
      node: null,
      direction: 'shared',
      verdict: 'drop',
      rule: 'from an address of the node subnet that is no node',
    }),
    unknownDst: b.counter({
      name: 'unknown.dst.drop',
      node: null,
      direction: 'shared',
      verdict: 'drop',
      rule: 'to an address of the node subnet that is no node',
    }),
    dns: b.counter({ name: 'dns', node: null, direction: 'shared', verdict: 'allow', rule: "DNS to the station's resolver" }),
    ping: b.counter({ name: 'gateway.ping', node: null, direction: 'shared', verdict: 'allow', rule: 'ping the gateway' }),
    stationDrop: b.counter({
      name: 'station.drop',
      node: null,
      direction: 'shared',
      verdict: 'drop',
      rule: 'unknown source to station services',
    }),
    ipv6: b.counter({
      name: 'ipv6.drop',
      node: null,
      direction: 'shared',
      verdict: 'drop',
      rule: 'IPv6 to or from nodes (nodes are IPv4 only)',
    }),
    masquerade: b.counter({
      name: 'nat.masquerade',
      node: null,
      direction: 'shared',
      verdict: 'allow',
      rule: 'new flows from nodes masqueraded to the LAN',
    }),
  };

  const body: string[] = [];
  body.push(...setDecl('lan', facts.lanSubnets), ...setDecl('mesh', facts.meshSubnets));
  body.push(...setDecl('not_internet', [...NOT_INTERNET_BASE, facts.nodeSubnet, ...facts.lanSubnets, ...facts.meshSubnets]));

  const chains: string[] = [];
  chains.push(
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    '\t\tct state related accept',
    '\t\tct direction reply ct state established accept',
    // Nodes get IPv4 only; IPv6 (link-local appears by itself) would bypass every rule below.
    `\t\tiifname "${facts.bridge}" meta nfproto ipv6 ${shared.ipv6} drop`,
    `\t\toifname "${facts.bridge}" meta nfproto ipv6 ${shared.ipv6} drop`,
    `\t\tip saddr ${facts.nodeSubnet} jump egress`,
    `\t\tip daddr ${facts.nodeSubnet} jump ingress`,
    '\t}',
  );
  chains.push(...dispatch('egress', 'saddr', nodes, 'eg', shared.unknownSrc));
  chains.push(...dispatch('ingress', 'daddr', nodes, 'in', shared.unknownDst));
  for (const node of nodes) chains.push(...egressChain(b, node, locals, input), ...ingressChain(b, node, locals, input));

  // The station's mesh address is reached through the mesh only. Linux answers for a local address
  // on any interface (weak host), so without this a LAN host routing the mesh range via the station
  // would reach what listens on that address (the copy store, etcd) around Nebula's certificates
  // and firewall. Nodes reach the station at the gateway, so this comes before from_nodes.
  const meshOnly =
    facts.meshInterface && facts.meshAddress
      ? `\t\tip daddr ${facts.meshAddress} iifname != { "${facts.meshInterface}", "lo" } ${b.counter({
          name: 'mesh.bypass.drop',
          node: null,
          direction: 'shared',
          verdict: 'drop',
          rule: "to the station's mesh address, not through the mesh",
        })} drop`
      : null;
  chains.push(
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    ...(meshOnly ? [meshOnly] : []),
    `\t\tiifname "${facts.bridge}" jump from_nodes`,
    '\t}',
  );
  const stationMap = vmap('saddr', nodes, 'st');
  chains.push(
    '\tchain from_nodes {',
    '\t\tct state established,related accept',
    `\t\tip daddr ${facts.gateway} meta l4proto { tcp, udp } th dport 53 ${shared.dns} accept`,
    `\t\tip daddr ${facts.gateway} icmp type echo-request ${shared.ping} accept`,
    ...(stationMap ? [`\t\t${stationMap}`] : []),
    `\t\t${shared.stationDrop} drop`,
    '\t}',
  );
  for (const node of nodes) chains.push(...stationChain(b, node));

  // Exposed ports: DNAT a station port to the node; the node's ingress chain admits the flow.
  const dnat: string[] = [];
  for (const node of nodes) {
    for (const [i, rule] of (node.policy.expose ?? []).entries()) {
      const iface =
        rule.on === 'lan'
          ? lanInterfaceMatch('iifname', facts.lanInterfaces, [facts.bridge, ...meshIf])
          : facts.meshInterface
            ? `iifname "${facts.meshInterface}"`
            : null;
      if (iface === null) continue;
      const counter = b.counter({
        name: `n.${node.name}.ex.${i}.conn`,
        node: node.name,
        direction: 'expose',
        verdict: 'allow',
        rule: `new connections to ${rule.on} port ${rule.port}`,
      });
      dnat.push(`\t\t${join(iface, `meta l4proto ${rule.proto ?? 'tcp'} th dport ${rule.port}`, counter, `dnat ip to ${node.address}:${rule.to}`)}`);
    }
  }
  chains.push('\tchain prerouting {', '\t\ttype nat hook prerouting priority dstnat; policy accept;', ...dnat, '\t}');
  // Masquerade what the policy let out towards the LAN (and the internet behind it). Mesh traffic
  // keeps node addresses: other stations route node subnets over the mesh.
  chains.push(
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\tip saddr ${facts.nodeSubnet} ip daddr != ${facts.nodeSubnet} ${lanInterfaceMatch('oifname', facts.lanInterfaces, [facts.bridge, ...meshIf])} ` +
      `${shared.masquerade} masquerade`,
    '\t}',
  );

  const text = [
    '# Generated by the Station agent (agent/network/compile-nft.ts); replaced whole on every change.',
    `table inet ${TABLE} {}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    ...body,
    ...b.declarations(),
    ...chains,
    '}',
    ...antiSpoofTable(nodes),
    '',
  ].join('\n');
  return { text, counters: b.counters };
}
