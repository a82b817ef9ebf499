// The Network Node subsystem: keeps `table inet station` equal to what every node's policy says
// (compile, then one atomic `nft -f`), serves per-node counters, runs the station's resolver
// (dnsmasq) and the Dynamic Alias registry. The node service calls apply() with its nodes; the
// mesh code calls setMesh() and setAliasPeers(). Without nft it is off with the reason; without
// dnsmasq the filter still works and the subsystem is degraded.
import type { Config } from '../config/schema.ts';
import type { Runner } from '../exec.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { compileRuleset } from './compile-nft.ts';
import { nodeCounters, type NodeCounters } from './counters.ts';
import { parseLanFacts } from './lan-facts.ts';
import { meshFirewallRules, type MeshFirewall, type MeshFirewallOptions } from './nebula-firewall.ts';
import { NftDriver } from './nft-driver.ts';
import { intToIpv4, parseCidr } from '../lib/ipv4.ts';
import { SerialQueue } from '../lib/serial-queue.ts';
import { checkPolicyShape, danglingNodeReferences, validatePolicies } from './validate.ts';
import type { CounterInfo, CounterValue, NodeNetwork, PeerDirectory, StationNetworkFacts } from './types.ts';
import { EMPTY_DIRECTORY } from './types.ts';
import { AliasRegistry } from './alias/registry.ts';
import { localRecords, renderHosts, type AliasRecord } from './alias/records.ts';
import type { DnsmasqResolver } from './alias/dnsmasq.ts';
import { startStationResolver } from './alias/station-resolver.ts';
import { AliasExchange, type AliasPeer } from './alias/exchange.ts';
import { NodeSync } from './node-sync.ts';
import { remoteNodeDirectory, type MeshFacts } from './mesh-facts.ts';

/** A node as the node service hands it over: policy not yet validated. */
export interface NodeNetworkInput { name: string; address: string; policy?: unknown; /** host-side bridge port (veth) */ port?: string }

export interface MeshNetworkFacts {
  meshInterface?: string;
  meshSubnets: string[];
  directory?: PeerDirectory;
  /** the owner this station's aliases are published under (ALIAS.OWNER.<domain>) */
  owner?: string;
}

export interface ApplyResult { nodes: number; counters: number; ms: number; changed: boolean }

export interface NetworkDeps {
  config: Config;
  run: Runner;
  events: EventBus;
  log: Logger;
  /** test hook: where the resolver listens besides the gateway (default 127.0.0.1) */
  resolverLoopback?: boolean;
  aliasPullMs?: number;
  /** the station's nodes as the node service has them (undefined while it is not running) */
  nodeSource?: () => NodeNetworkInput[] | undefined;
  /** the mesh's view: the owner aliases are published under and the peers to pull names from */
  meshSource?: () => MeshFacts | undefined;
  /** the namespace the resolver daemon is started in; default: the one the runner runs commands in */
  netns?: string;
  /** the node subnet in use at start (the mesh may have allocated one); default config.nodeSubnet */
  nodeSubnetSource?: () => string;
}

export class NetworkSubsystem implements Subsystem {
  readonly name = 'network';
  readonly aliases: AliasRegistry;
  private readonly deps: NetworkDeps;
  private readonly nft: NftDriver;
  private readonly exchange: AliasExchange;
  private resolver: DnsmasqResolver | undefined;
  private state: SubsystemHealth = { state: 'starting' };
  private resolverError: string | undefined;
  private nodes: NodeNetwork[] = [];
  private index: CounterInfo[] = [];
  private lastText = '';
  private lastApplyMs = 0;
  private mesh: MeshNetworkFacts = { meshSubnets: [] };
  private lan: { lanInterfaces: string[]; lanSubnets: string[] } = { lanInterfaces: [], lanSubnets: [] };
  private readonly queue = new SerialQueue();
  private counterCache: { at: number; values: Record<string, CounterValue> } | undefined;
  private sync: NodeSync | undefined;
  private bridgeCheckedAt = 0;
  private nodeSubnet: string;
  private resolverFollowsNames = false;

  constructor(deps: NetworkDeps) {
    this.deps = deps;
    this.nodeSubnet = deps.config.nodeSubnet;
    this.nft = new NftDriver(deps.run);
    this.aliases = new AliasRegistry(deps.config.domain, { station: deps.config.name });
    this.exchange = new AliasExchange({ registry: this.aliases, log: deps.log, intervalMs: deps.aliasPullMs });
  }

  /** Policies may name nodes of other stations: when where they run changes, the table follows. */
  private followRemoteNodes(): void {
    let last = '';
    this.aliases.onChange(() => {
      const key = JSON.stringify(remoteNodeDirectory(this.aliases.resolved(), this.station));
      if (key === last) return;
      last = key;
      if (this.nodes.some((n) => [...(n.policy.egress ?? []).map((r) => r.to), ...(n.policy.ingress ?? []).map((r) => r.from)].some((p) => p.startsWith('node:')))) {
        this.apply(this.nodes).catch((error: Error) => this.deps.log.error({ err: error.message }, 're-apply after a mesh node moved failed'));
      }
    });
  }

  get station(): string { return this.deps.config.name; }
  get domain(): string { return this.deps.config.domain; }
  /** the gateway on the bridge: nodes' router and resolver (first host of the node subnet) */
  get gateway(): string {
    const cidr = parseCidr(this.nodeSubnet);
    return 'problem' in cidr ? '' : intToIpv4(cidr.base + 1);
  }

  async start(): Promise<void> {
    const capability = await this.nft.capability();
    if (!capability.available) {
      this.state = { state: 'off', reason: capability.reason };
      this.deps.log.warn({ reason: capability.reason }, 'traffic control is off');
      return;
    }
    if (this.deps.nodeSubnetSource) this.nodeSubnet = this.deps.nodeSubnetSource();
    await this.refreshLanFacts();
    await this.startResolver();
    this.followRemoteNodes();
    this.exchange.start();
    await this.apply(this.nodes.map((n) => ({ ...n })));
    if (this.deps.nodeSource || this.deps.meshSource) {
      this.sync = new NodeSync({ network: this, events: this.deps.events, log: this.deps.log, nodeSource: this.deps.nodeSource, meshSource: this.deps.meshSource });
      this.sync.start();
    }
    this.state = this.resolverError ? { state: 'degraded', reason: `resolver: ${this.resolverError}` } : { state: 'ok' };
  }

  async stop(): Promise<void> {
    this.sync?.stop();
    this.exchange.stop();
    // The table stays: nodes keep running while the agent restarts and must stay fenced.
    await this.resolver?.stop();
    this.resolver = undefined;
  }

  health(): SubsystemHealth {
    if (this.state.state === 'ok' && this.resolver && !this.resolver.running) return { state: 'degraded', reason: `resolver: ${this.resolver.lastExit ?? 'dnsmasq is not running'}` };
    return this.state;
  }

  summary(): Record<string, unknown> {
    return { nodes: this.nodes.length, counters: this.index.length, lastApplyMs: this.lastApplyMs, resolver: this.resolver?.running ? this.gateway : null, aliases: this.aliases.resolved().length };
  }

  get enabled(): boolean {
    return this.state.state !== 'off';
  }

  facts(): StationNetworkFacts {
    const c = this.deps.config;
    return { bridge: c.bridge, nodeSubnet: this.nodeSubnet, gateway: this.gateway, ...this.lan, meshInterface: this.mesh.meshInterface, meshSubnets: this.mesh.meshSubnets };
  }

  /**
   * Validates policies (400 on the first bad one, nothing applied): shape, peer words, exposed
   * ports and aliases across the nodes. A node:NAME of no node (yet) is accepted (see validate.ts).
   */
  validate(policies: Record<string, unknown>): void {
    validatePolicies(policies, { reservedPorts: [this.deps.config.httpPort, 53] });
  }

  /**
   * Validates one node's new or changed policy against the station's other nodes (exposed ports,
   * aliases): what the node service calls on POST /nodes and PATCH /nodes/:name.
   */
  validateCandidate(name: string, policy: unknown): void {
    // The node service's own list is newer than the last applied set (a node made a moment ago).
    let current: NodeNetworkInput[] = this.nodes;
    try { current = this.deps.nodeSource?.() ?? this.nodes; } catch { /* node service not up: use what we applied */ }
    const others = Object.fromEntries(current.filter((n) => n.name !== name).map((n) => [n.name, n.policy ?? {}]));
    const reservedPorts = [this.deps.config.httpPort, 53];
    // the candidate alone first, so its own mistakes are named before clashes with the others
    validatePolicies({ [name]: policy ?? {} }, { reservedPorts });
    validatePolicies({ ...others, [name]: policy ?? {} }, { reservedPorts });
  }

  /**
   * The node:NAME references of a node's policy that name no node now: not one of `localNodes`
   * (the node service passes its own list) nor a node the mesh names. Its rules match nothing
   * until that node appears; the node's view shows them.
   */
  danglingReferences(name: string, policy: unknown, localNodes: string[]): string[] {
    if (policy === undefined || policy === null) return [];
    let valid;
    try { valid = checkPolicyShape(name, policy); } catch { return []; }
    return danglingNodeReferences(valid, [name, ...localNodes, ...Object.keys(this.directory().nodes)]);
  }

  /**
   * Makes the table say what these nodes' policies say (the whole set of running nodes on this
   * station). Validates first: a bad policy throws ValidationError and nothing changes. A rule
   * naming a node that is not there has no element in the table; re-applying when the node
   * appears (the node service's node.* events, a mesh node's name arriving) makes it match.
   */
  apply(inputs: NodeNetworkInput[]): Promise<ApplyResult> {
    return this.queue.run(() => this.applyNow(inputs));
  }

  private async applyNow(inputs: NodeNetworkInput[]): Promise<ApplyResult> {
    const started = performance.now();
    const policies = validatePolicies(Object.fromEntries(inputs.map((n) => [n.name, n.policy ?? {}])), { reservedPorts: [this.deps.config.httpPort, 53] });
    const nodes: NodeNetwork[] = inputs.map((n) => ({ name: n.name, address: n.address.split('/')[0]!, policy: policies[n.name]!, ...(n.port ? { port: n.port } : {}) }));
    this.publishLocalNames(nodes);
    if (!this.enabled) {
      this.nodes = nodes;
      return { nodes: nodes.length, counters: 0, ms: 0, changed: false };
    }
    // checked again now and then (the node engine may re-make the bridge), not on every change
    if (Date.now() - this.bridgeCheckedAt > 10_000) {
      const on = await this.nft.ensureBridgeFiltering(this.deps.config.bridge).catch((error: Error) => { this.deps.log.warn({ err: error.message }, 'could not switch on filtering of bridged traffic'); return false; });
      this.bridgeCheckedAt = on ? Date.now() : 0;
    }
    const plain = compileRuleset({ facts: this.facts(), nodes, directory: this.directory() });
    if (plain.text === this.lastText) {
      this.nodes = nodes;
      return { nodes: nodes.length, counters: plain.counters.length, ms: performance.now() - started, changed: false };
    }
    // The table is replaced whole: carry the counts over so totals do not reset on each change.
    const seed = await this.counterSeed(plain.counters);
    const compiled = compileRuleset({ facts: this.facts(), nodes, directory: this.directory(), counterSeed: seed });
    await this.nft.apply(compiled.text);
    this.nodes = nodes;
    this.index = compiled.counters;
    this.lastText = plain.text;
    this.counterCache = undefined;
    this.lastApplyMs = Math.round((performance.now() - started) * 10) / 10;
    this.deps.events.publish('network.applied', { nodes: nodes.length, counters: compiled.counters.length, ms: this.lastApplyMs });
    return { nodes: nodes.length, counters: compiled.counters.length, ms: this.lastApplyMs, changed: true };
  }

  /** Counter values to start from: the current ones of counters that keep their meaning. */
  private async counterSeed(next: CounterInfo[]): Promise<Record<string, CounterValue>> {
    if (!this.index.length) return {};
    const values = await this.nft.readCounters();
    const before = new Map(this.index.map((c) => [c.name, c.rule]));
    const seed: Record<string, CounterValue> = {};
    for (const c of next) if (before.get(c.name) === c.rule && values[c.name]) seed[c.name] = values[c.name]!;
    return seed;
  }

  /** Allowed and dropped packets/bytes of one node, for its status; undefined when unknown. */
  async countersFor(name: string): Promise<NodeCounters | undefined> {
    if (!this.enabled || !this.nodes.some((n) => n.name === name)) return undefined;
    // one nft call serves a burst of node status reads (a list of nodes asks for each)
    if (!this.counterCache || Date.now() - this.counterCache.at > 1000) this.counterCache = { at: Date.now(), values: await this.nft.readCounters() };
    return nodeCounters(name, this.index, this.counterCache.values);
  }

  /**
   * The nodes moved to another subnet (the one the mesh allocated; the node engine has already put
   * the new gateway on the bridge): the resolver moves to the new gateway and the table follows.
   */
  async setNodeSubnet(cidr: string): Promise<void> {
    if (cidr === this.nodeSubnet) return;
    this.nodeSubnet = cidr;
    if (!this.enabled) return;
    await this.resolver?.stop();
    this.resolver = undefined;
    await this.startResolver();
    this.state = this.resolverError ? { state: 'degraded', reason: `resolver: ${this.resolverError}` } : { state: 'ok' };
    await this.apply(this.nodes);
  }

  /** The mesh code tells us its interface, subnets and who is who; the table follows. */
  async setMesh(mesh: MeshNetworkFacts): Promise<void> {
    this.mesh = { ...mesh };
    this.publishLocalNames(this.nodes);
    await this.apply(this.nodes);
  }

  /** Who is who on the mesh: what the mesh told us, plus other stations' nodes from their names. */
  directory(): PeerDirectory {
    const given = this.mesh.directory ?? EMPTY_DIRECTORY;
    return { ...given, nodes: { ...remoteNodeDirectory(this.aliases.resolved(), this.station), ...given.nodes } };
  }

  /** Only the owner changed (the mesh was created or joined): names follow, the table does not. */
  setOwner(owner: string | undefined): void {
    if (owner === this.mesh.owner) return;
    this.mesh = { ...this.mesh, owner };
    this.publishLocalNames(this.nodes);
  }

  /** Nebula firewall entries for this station's nodes (the mesh code merges them into its config). */
  meshFirewall(options: MeshFirewallOptions = {}): MeshFirewall {
    return meshFirewallRules(this.nodes, this.directory(), { meshSubnets: this.mesh.meshSubnets, ...options });
  }

  /** Stations whose alias records we pull (their station-to-station API base URLs). */
  setAliasPeers(peers: AliasPeer[]): void {
    this.exchange.setPeers(peers);
  }

  aliasPeers(): ReturnType<AliasExchange['peerStatus']> {
    return this.exchange.peerStatus();
  }

  /** Pulls every peer now (tests, and the mesh code when a peer says it changed). */
  pullAliases(): Promise<void> {
    return this.exchange.pullOnce();
  }

  /**
   * GET /aliases: every name this station answers, where it points and which station runs it.
   * `local`: only this station's own records (what peers pull).
   */
  aliasListing(scope: 'all' | 'local' = 'all'): { station: string; domain: string; resolver: string | null; records: (AliasRecord & { local: boolean })[] } {
    const records = scope === 'local' ? this.aliases.localRecords() : this.aliases.resolved();
    return {
      station: this.station, domain: this.domain, resolver: this.resolver?.running ? this.gateway : null,
      records: records.map((r) => ({ ...r, local: r.station === this.station })),
    };
  }

  private publishLocalNames(nodes: NodeNetwork[]): void {
    const owner = this.mesh.owner || this.station;
    const records = localRecords(nodes.map((n) => ({ name: n.name, address: n.address, aliases: n.policy.aliases })), this.station, owner, this.domain, this.aliases.localRecords(), Date.now());
    this.aliases.setLocalRecords(records);
  }

  private async refreshLanFacts(): Promise<void> {
    const routes = await this.deps.run(['ip', '-j', '-4', 'route', 'show'], { allowFailure: true });
    const addrs = await this.deps.run(['ip', '-j', '-4', 'addr', 'show'], { allowFailure: true });
    this.lan = parseLanFacts(routes.stdout, addrs.stdout, [this.deps.config.bridge, ...(this.mesh.meshInterface ? [this.mesh.meshInterface] : [])]);
  }

  private async startResolver(): Promise<void> {
    const started = await startStationResolver({ run: this.deps.run, netns: this.deps.netns, stateDir: this.deps.config.stateDir, gateway: this.gateway, domain: this.domain, loopback: this.deps.resolverLoopback, initialHosts: renderHosts(this.aliases.resolved()) });
    this.resolver = started.resolver;
    this.resolverError = started.error;
    if (!this.resolver) {
      this.deps.log.error({ err: this.resolverError }, 'the resolver (dnsmasq) did not start; names are not served');
      return;
    }
    if (this.resolverFollowsNames) return;
    this.resolverFollowsNames = true;
    this.aliases.onChange((records: AliasRecord[]) => {
      this.resolver?.update(renderHosts(records)).catch((error: Error) => this.deps.log.error({ err: error.message }, 'resolver update failed'));
    });
  }
}
