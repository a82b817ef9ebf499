// The Network Node subsystem, a coordinator of the network room's parts: the nft table of the
// nodes' policies (table.ts), the station's resolver (resolver.ts), its names and the peers' names
// (names.ts), and the policy checks (validate.ts). It follows the node service (node-sync.ts) and
// the mesh (mesh-follow.ts) through their events and narrow read interfaces; neither calls it to
// push state. Without nft it is off with the reason; without dnsmasq the filter still works and the
// subsystem is degraded.
import type { Config } from '../config/schema.ts';
import type { Runner } from '../exec.ts';
import type { EventBus } from '../events.ts';
import { intToIpv4, parseCidr } from '../lib/ipv4.ts';
import { SerialQueue } from '../lib/serial-queue.ts';
import type { Logger } from '../log.ts';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import type { AliasPeer } from './alias/exchange.ts';
import type { AliasRegistry } from './alias/registry.ts';
import type { NodeCounters } from './counters.ts';
import { parseLanFacts } from './lan-facts.ts';
import { MeshFollow, type MeshView } from './mesh-follow.ts';
import { meshFirewallRules, type MeshFirewall } from './nebula-firewall.ts';
import { NftDriver } from './nft-driver.ts';
import { NodeSync, type NodeInventory } from './node-sync.ts';
import { StationNames, type AliasListing } from './names.ts';
import { StationResolver } from './resolver.ts';
import { NodeTable } from './table.ts';
import { danglingReferences, validateCandidate, validatePolicies } from './validate.ts';
import { EMPTY_DIRECTORY, type ApplyResult, type MeshNetworkFacts, type NodeNetwork, type NodeNetworkInput } from './types.ts';
import type { PeerDirectory, StationNetworkFacts } from './types.ts';

export type { ApplyResult, MeshNetworkFacts, NodeNetworkInput } from './types.ts';

export interface NetworkDeps {
  config: Config;
  run: Runner;
  events: EventBus;
  log: Logger;
  /** the station's nodes, followed on node.* events (tests may leave it out and call apply()) */
  nodes?: NodeInventory;
  /** the mesh, followed on mesh.* events (tests may leave it out and call setMesh()) */
  mesh?: MeshView;
  /** test hook: where the resolver listens besides the gateway (default 127.0.0.1) */
  resolverLoopback?: boolean;
  aliasPullMs?: number;
  /** the namespace the resolver daemon is started in; default: the one the runner runs commands in */
  netns?: string;
}

export class NetworkSubsystem implements Subsystem {
  readonly name = 'network';
  private readonly deps: NetworkDeps;
  private readonly nft: NftDriver;
  private readonly table: NodeTable;
  private readonly names: StationNames;
  private readonly resolver: StationResolver;
  private readonly queue = new SerialQueue();
  private readonly followers: (NodeSync | MeshFollow)[] = [];
  private state: SubsystemHealth = { state: 'starting' };
  private nodes: NodeNetwork[] = [];
  private lastApplyMs = 0;
  private mesh: MeshNetworkFacts = { meshSubnets: [] };
  private lan: { lanInterfaces: string[]; lanSubnets: string[] } = { lanInterfaces: [], lanSubnets: [] };
  private nodeSubnet: string;

  constructor(deps: NetworkDeps) {
    this.deps = deps;
    this.nodeSubnet = deps.config.nodeSubnet;
    this.nft = new NftDriver(deps.run);
    this.table = new NodeTable(this.nft, deps.log);
    this.names = new StationNames({ station: deps.config.name, domain: deps.config.domain, log: deps.log, pullMs: deps.aliasPullMs });
    this.resolver = new StationResolver({
      run: deps.run,
      log: deps.log,
      stateDir: deps.config.stateDir,
      domain: deps.config.domain,
      aliases: this.names.registry,
      netns: deps.netns,
      loopback: deps.resolverLoopback,
    });
    if (deps.nodes) this.followers.push(new NodeSync({ apply: (nodes) => this.apply(nodes), nodes: deps.nodes, events: deps.events, log: deps.log }));
    if (deps.mesh) {
      this.followers.push(
        new MeshFollow({
          mesh: deps.mesh,
          events: deps.events,
          log: deps.log,
          setOwner: (owner) => this.setOwner(owner),
          setAliasPeers: (peers) => this.setAliasPeers(peers),
          setMesh: (facts) => this.setMesh(facts),
        }),
      );
    }
  }

  /** the gateway on the bridge: nodes' router and resolver (first host of the node subnet) */
  get gateway(): string {
    const cidr = parseCidr(this.nodeSubnet);
    return 'problem' in cidr ? '' : intToIpv4(cidr.base + 1);
  }

  /** every name this station knows: its own and the peers' (tests feed peers' records here) */
  get aliases(): AliasRegistry {
    return this.names.registry;
  }

  get enabled(): boolean {
    return this.state.state !== 'off';
  }

  async start(): Promise<void> {
    const capability = await this.nft.capability();
    if (!capability.available) {
      this.state = { state: 'off', reason: capability.reason };
      this.deps.log.warn({ reason: capability.reason }, 'traffic control is off');
      return;
    }
    if (this.deps.nodes) this.nodeSubnet = this.deps.nodes.nodeSubnet();
    await this.refreshLanFacts();
    await this.resolver.start(this.gateway);
    // Policies may name nodes of other stations: when where they run changes, the table follows.
    this.names.onRemoteNodesChange(() => {
      if (!this.nodes.some(namesRemoteNodes)) return;
      this.apply(this.nodes).catch((error: Error) => this.deps.log.error({ err: error.message }, 're-apply after a mesh node moved failed'));
    });
    this.names.start();
    await this.apply(this.nodes);
    for (const follower of this.followers) follower.start();
    this.state = { state: 'ok' };
  }

  async stop(): Promise<void> {
    for (const follower of this.followers) follower.stop();
    this.names.stop();
    // The table stays: nodes keep running while the agent restarts and must stay fenced.
    await this.resolver.stop();
  }

  health(): SubsystemHealth {
    if (this.state.state !== 'ok') return this.state;
    const problem = this.resolver.problem();
    return problem ? { state: 'degraded', reason: `resolver: ${problem}` } : this.state;
  }

  summary(): Record<string, unknown> {
    const aliases = this.names.registry.resolved().length;
    return {
      nodes: this.nodes.length,
      counters: this.table.counters,
      lastApplyMs: this.lastApplyMs,
      resolver: this.resolverAddress(),
      aliases,
    };
  }

  facts(): StationNetworkFacts {
    const c = this.deps.config;
    const { meshInterface, meshAddress, meshSubnets } = this.mesh;
    return { bridge: c.bridge, nodeSubnet: this.nodeSubnet, gateway: this.gateway, ...this.lan, meshInterface, meshAddress, meshSubnets };
  }

  /** Validates policies (400 on the first bad one, nothing applied). */
  validate(policies: Record<string, unknown>): void {
    validatePolicies(policies, this.policyOptions());
  }

  /**
   * Validates one node's new or changed policy against the station's other nodes (exposed ports,
   * aliases): what the node service calls on POST /nodes and PATCH /nodes/:name. A node:NAME of no
   * node (yet) is accepted (see validate.ts).
   */
  validateCandidate(name: string, policy: unknown): void {
    // The node service's own list is newer than the last applied set (a node made a moment ago).
    let current: NodeNetworkInput[] = this.nodes;
    try {
      current = this.deps.nodes?.nodeInputs() ?? this.nodes;
    } catch {
      /* node service not up: use what we applied */
    }
    const others = Object.fromEntries(current.filter((n) => n.name !== name).map((n) => [n.name, n.policy ?? {}]));
    validateCandidate(name, policy, others, this.policyOptions());
  }

  /**
   * The node:NAME references of a node's policy that name no node now: not one of `localNodes`
   * (the node service passes its own list) nor a node the mesh names. Its rules match nothing
   * until that node appears; the node's view shows them.
   */
  danglingReferences(name: string, policy: unknown, localNodes: string[]): string[] {
    return danglingReferences(name, policy, [...localNodes, ...Object.keys(this.directory().nodes)]);
  }

  /**
   * Makes the table say what these nodes' policies say (the whole set of running nodes on this
   * station). Validates first: a bad policy throws ValidationError and nothing changes. Changes
   * run one at a time.
   */
  apply(inputs: NodeNetworkInput[]): Promise<ApplyResult> {
    return this.queue.run(() => this.applyNow(inputs));
  }

  private async applyNow(inputs: NodeNetworkInput[]): Promise<ApplyResult> {
    const started = performance.now();
    const policies = validatePolicies(Object.fromEntries(inputs.map((n) => [n.name, n.policy ?? {}])), this.policyOptions());
    const nodes: NodeNetwork[] = inputs.map((n) => ({
      name: n.name,
      address: n.address.split('/')[0]!,
      policy: policies[n.name]!,
      ...(n.port ? { port: n.port } : {}),
    }));
    this.names.setLocal(nodes, this.mesh.owner);
    if (!this.enabled) {
      this.nodes = nodes;
      return { nodes: nodes.length, counters: 0, ms: 0, changed: false };
    }
    const { changed, counters } = await this.table.apply({ facts: this.facts(), nodes, directory: this.directory() });
    this.nodes = nodes;
    if (!changed) return { nodes: nodes.length, counters, ms: performance.now() - started, changed };
    this.lastApplyMs = Math.round((performance.now() - started) * 10) / 10;
    this.deps.events.publish('network.applied', { nodes: nodes.length, counters, ms: this.lastApplyMs });
    return { nodes: nodes.length, counters, ms: this.lastApplyMs, changed };
  }

  /** Allowed and dropped packets/bytes of one node, for its status; undefined when unknown. */
  async countersFor(name: string): Promise<NodeCounters | undefined> {
    if (!this.enabled) return undefined;
    return this.table.countersFor(name);
  }

  /**
   * The nodes moved to another subnet (the one the mesh allocated; the node engine has already put
   * the new gateway on the bridge): the resolver moves to the new gateway and the table follows.
   */
  async setNodeSubnet(cidr: string): Promise<void> {
    if (cidr === this.nodeSubnet) return;
    this.nodeSubnet = cidr;
    if (!this.enabled) return;
    await this.resolver.start(this.gateway);
    await this.apply(this.nodes);
  }

  /** The mesh's interface, this station's mesh address, subnets and who is who (mesh-follow.ts; tests call it directly); the table follows. */
  async setMesh(mesh: MeshNetworkFacts): Promise<void> {
    this.mesh = { ...mesh };
    this.names.setLocal(this.nodes, this.mesh.owner);
    await this.apply(this.nodes);
  }

  /** Only the owner changed (the mesh was created or joined): names follow, the table does not. */
  setOwner(owner: string | undefined): void {
    if (owner === this.mesh.owner) return;
    this.mesh = { ...this.mesh, owner };
    this.names.setLocal(this.nodes, owner);
  }

  /** Stations whose alias records we pull (their station-to-station API base URLs). */
  setAliasPeers(peers: AliasPeer[]): void {
    this.names.setPeers(peers);
  }

  /** Who is who on the mesh: what the mesh told us, plus other stations' nodes from their names. */
  directory(): PeerDirectory {
    const given = this.mesh.directory ?? EMPTY_DIRECTORY;
    return { ...given, nodes: { ...this.names.remoteNodes(), ...given.nodes } };
  }

  /** Nebula firewall entries for this station's nodes (the mesh merges them into its config). */
  meshFirewall(): MeshFirewall {
    return meshFirewallRules(this.nodes, this.directory(), { meshSubnets: this.mesh.meshSubnets });
  }

  /** GET /aliases: every name this station answers, where it points and which station runs it. */
  aliasListing(scope: 'all' | 'local' = 'all'): AliasListing {
    return this.names.listing(scope, this.resolverAddress());
  }

  private resolverAddress(): string | null {
    return this.resolver.running ? this.gateway : null;
  }

  private policyOptions(): { reservedPorts: number[] } {
    return { reservedPorts: [this.deps.config.httpPort, 53] };
  }

  private async refreshLanFacts(): Promise<void> {
    const routes = await this.deps.run(['ip', '-j', '-4', 'route', 'show'], { allowFailure: true });
    const addrs = await this.deps.run(['ip', '-j', '-4', 'addr', 'show'], { allowFailure: true });
    this.lan = parseLanFacts(routes.stdout, addrs.stdout, [this.deps.config.bridge, ...(this.mesh.meshInterface ? [this.mesh.meshInterface] : [])]);
  }
}

/** A policy that names a node by node:NAME (maybe on another station). */
const namesRemoteNodes = (n: NodeNetwork): boolean =>
  [...(n.policy.egress ?? []).map((r) => r.to), ...(n.policy.ingress ?? []).map((r) => r.from)].some((p) => p.startsWith('node:'));
