// The composition root: builds every subsystem once, in one place, and starts and stops them in
// order. main.ts and the tests both use it, so tests run the same wiring the station runs.
import { mkdir, chmod } from 'node:fs/promises';
import type { Config } from './config/schema.ts';
import { exec, type Runner } from './exec.ts';
import { EventBus } from './events.ts';
import type { Logger } from './log.ts';
import { MetricsRegistry } from './metrics.ts';
import { AuthService } from './auth/auth-service.ts';
import { ensureAdminToken } from './auth/admin-token.ts';
import { HardwareSubsystem } from './hardware-subsystem.ts';
import { WifiSubsystem } from './wifi/wifi-subsystem.ts';
import { DiscoverySubsystem } from './discovery/mdns-subsystem.ts';
import { IndicatorSubsystem } from './indicator/indicator-subsystem.ts';
import { MeshSubsystem } from './mesh/mesh-subsystem.ts';
import { tunDevFor } from './mesh/mesh-state.ts';
import { NodesSubsystem } from './nodes/subsystem.ts';
import { NetworkSubsystem, type NodeNetworkInput } from './network/network-subsystem.ts';
import type { NodeInventory } from './network/node-sync.ts';
import type { MeshView } from './network/mesh-follow.ts';
import { vethName } from './nodes/lxc/names.ts';
import { meshFactsFrom, type MeshFacts } from './network/mesh-facts.ts';
import { meshOffInfo } from './mesh/mesh-info.ts';
import { UnavailableError } from './errors.ts';
import { LxcDriver } from './nodes/lxc/driver.ts';
import { FleetSubsystem, type NodeHandOver } from './fleet/fleet-subsystem.ts';
import { fleetEnvironment } from './fleet/env.ts';
import { gateDriver, stopAllNodes } from './fleet/gated-driver.ts';
import { StatusService } from './status.ts';
import { DiskSubsystem } from './disk/disk-subsystem.ts';
import type { Subsystem } from './subsystem.ts';
import { ReplicasSubsystem } from './replicas/replicas-subsystem.ts';
import type { NodeReplicas, NodeSpec } from './nodes/spec.ts';
import { httpLeaseStorePeers } from './replicas/lease/lease-store-peers.ts';
import { OrchestratorSubsystem } from './orchestrator/orchestrator-subsystem.ts';
import { clusterAliasClaimers, withClusterPorts } from './orchestrator/orchestrator-policy.ts';
import { httpClusterPeers } from './orchestrator/orchestrator-peers.ts';

export interface SystemDeps {
  config: Config;
  log: Logger;
  /** the command runner; tests may wrap it to observe calls, never to fake engines */
  run?: Runner;
  /** where balena's variables are read from (default process.env); the fleet subsystem is on under balena only */
  env?: NodeJS.ProcessEnv;
}

/**
 * The composition root. Subsystems are built in the order of what they consult (each gets the
 * narrow interfaces it uses, never a setter), and started in the order of the list at the end.
 * The one cycle is the network's: the nodes and the mesh consult it (policy checks, counters, the
 * nodes' Nebula firewall entries), and it follows them. It is built first and reads them through
 * this system (nodeInputs, nodeSubnet, meshFacts), as the status service reads the subsystems:
 * only once started, on their events.
 */
export class StationSystem implements NodeInventory, MeshView, NodeHandOver {
  readonly config: Config;
  readonly log: Logger;
  readonly run: Runner;
  readonly events = new EventBus();
  readonly metrics = new MetricsRegistry();
  readonly status: StatusService;
  readonly hardware: HardwareSubsystem;
  readonly fleet: FleetSubsystem;
  readonly network: NetworkSubsystem;
  readonly nodes: NodesSubsystem;
  readonly mesh: MeshSubsystem;
  readonly disk: DiskSubsystem;
  readonly replicas: ReplicasSubsystem;
  readonly orchestrator: OrchestratorSubsystem;
  readonly wifi: WifiSubsystem;
  readonly discovery: DiscoverySubsystem;
  readonly indicator: IndicatorSubsystem;
  /** in start order; stopped in reverse */
  readonly subsystems: Subsystem[];
  private authService: AuthService | undefined;
  private started = false;
  /** the nodes' engine itself, not gated by the fleet: a hand-over stops nodes through it */
  private readonly lxc: LxcDriver;

  constructor(deps: SystemDeps) {
    const config = (this.config = deps.config);
    this.log = deps.log;
    const run = (this.run = deps.run ?? exec);
    const events = this.events;
    const log = (subsystem: string): Logger => deps.log.child({ subsystem });
    this.status = new StatusService(this);
    this.status.registerMetrics(this.metrics);
    this.events.subscribe(() => this.status.invalidate());

    this.hardware = new HardwareSubsystem({
      run,
      events,
      log: log('hardware'),
      nodePath: config.lxcPath,
      refreshSeconds: config.hardwareRefreshSeconds,
    });
    const status = this.status;
    const fleet = (this.fleet = new FleetSubsystem({
      env: fleetEnvironment(deps.env ?? process.env),
      stateDir: config.stateDir,
      log: log('fleet'),
      status: () => status.status(),
      reportSeconds: config.fleetReportSeconds,
      nodes: this,
    }));
    // Traffic control and names for the nodes: follows the node service (node.* events) and the mesh (mesh.*).
    const network = (this.network = new NetworkSubsystem({ config, run, events, log: log('network'), nodes: this, mesh: this }));

    const nodesLog = log('nodes');
    const lxc = (this.lxc = new LxcDriver({ lxcPath: config.lxcPath, templateCache: config.templateCache, run, log: nodesLog }));
    const nodes = (this.nodes = new NodesSubsystem({
      config,
      events,
      log: nodesLog,
      // Under balena, node changes wait for the fleet's hand-over and hold the update lock (agent/fleet);
      // with the fleet subsystem turned off nothing would ever grant ownership, so nodes are not gated.
      driver: this.isDisabled('fleet') ? lxc : gateDriver(lxc, fleet),
      validatePolicy: (name, policy) => network.validateCandidate(name, policy),
      trafficCounters: (name) => network.countersFor(name),
      danglingReferences: (name, policy, localNodes) => network.danglingReferences(name, policy, localNodes),
      checkReplicas: (name, replicas) => this.checkReplicas(name, replicas),
      checkOrchestrator: (orchestrator) => this.orchestrator.checkSpec(orchestrator),
      // a replicated node runs only where its lease is held (the replicas room decides once started)
      mayStart: async (name) => this.isDisabled('replicas') || this.replicas.mayStart(name),
      // a replicated node deleted on its Active is deleted everywhere (no copy takes it over)
      removing: (name) => {
        if (!this.isDisabled('replicas')) this.replicas.active.removing(name);
      },
      // node traffic to other stations' nodes keeps its addresses: the mesh routes node subnets
      routedInterfaces: [tunDevFor(config.stateDir, config.meshTunDev)],
    }));

    this.mesh = new MeshSubsystem({
      config,
      run,
      events,
      log: log('mesh'),
      // The nodes' mesh-facing policies become Nebula firewall entries (certificates carry owner-NAME groups).
      nodeFirewall: network,
      // In a mesh, nodes use the subnet the owner's authority allocated to this station (peers route
      // it here over Nebula); nodes made before joining move to it, and the resolver and table follow.
      nodeSubnet: {
        useSubnet: async (cidr) => {
          await nodes.useSubnet(cidr);
          await network.setNodeSubnet(nodes.subnetCidr());
        },
      },
    });
    // What the disk and replicas rooms see of the mesh; with the mesh turned off, a station in no mesh.
    const mesh = this.mesh;
    const meshView = {
      info: () => (this.isDisabled('mesh') ? meshOffInfo(config.name) : mesh.info()),
      peers: () => (this.isDisabled('mesh') ? [] : mesh.peers()),
      identify: (remote: string, local: string | undefined) => {
        if (this.isDisabled('mesh')) throw new UnavailableError('MESH_UNAVAILABLE', 'the mesh is turned off on this station');
        return mesh.identify(remote, local);
      },
    };
    // Infinite Disk: snapshots of the nodes' volumes, this station's store for its peers, copies on theirs.
    this.disk = new DiskSubsystem({
      config,
      run,
      events,
      log: log('disk'),
      nodes: { list: () => (this.nodes.volumeDriver() ? nodes.actions().list() : []), volumeDriver: () => nodes.volumeDriver() },
      // with the mesh turned off, Infinite Disk sees a station in no mesh (snapshots only)
      mesh: meshView,
    });
    this.disk.sources.pool = async () => nodes.volumePool()?.usage() ?? null;
    this.disk.registerMetrics(this.metrics);
    // Replicas: Inactive copies of nodes on the owner's other stations, one Active at a time (leases in etcd).
    this.replicas = new ReplicasSubsystem({
      config,
      events,
      log: log('replicas'),
      nodes: {
        list: () => (this.nodes.volumeDriver() ? nodes.actions().list() : []),
        volumeDriver: () => nodes.volumeDriver(),
        reconcile: () => nodes.reconcileNow(),
        stop: async (name) => void (await nodes.actions().stop(name)),
        start: async (name) => void (await nodes.actions().start(name)),
        snapshotNow: async (name) => (await this.disk.snapshots.snapshot(name)).name,
        stopNow: async (name) => void (await nodes.actions().stop(name, { timeoutSeconds: 0 })),
        removeKeepingVolumes: async (name) => void (await nodes.actions().remove(name, { volumes: false })),
        create: async (spec) => void (await nodes.actions().create(spec)),
      },
      mesh: meshView,
      peers: httpLeaseStorePeers,
    });
    this.replicas.registerMetrics(this.metrics);
    // Orchestrators inside nodes: the owner's orchestrated nodes form their clusters over the mesh.
    this.orchestrator = new OrchestratorSubsystem({
      config,
      run,
      events,
      log: log('orchestrator'),
      nodes: {
        list: () => (this.nodes.volumeDriver() ? nodes.actions().list() : []),
        exec: (name, command, options) => nodes.actions().exec(name, command, options),
      },
      mesh: meshView,
      leaseStore: { client: () => (this.isDisabled('replicas') ? null : this.replicas.leaseStore.client()) },
      peers: httpClusterPeers,
    });
    // What a person sees and touches: Wi-Fi onboarding, mDNS, the LED, link button and pairing window.
    const wifi = (this.wifi = new WifiSubsystem({ run, events, log: log('wifi'), config }));
    this.discovery = new DiscoverySubsystem({ config, events, log: log('discovery') });
    this.indicator = new IndicatorSubsystem({
      config,
      events,
      log: log('indicator'),
      auth: () => this.auth,
      ledInputs: () => ({ started: this.started, health: status.status().health, hotspot: wifi.hotspotActive }),
      resetNetwork: () => wifi.resetNetwork(),
    });

    this.subsystems = [
      // First to start, last to stop: the LED blinks "booting" while the others start, and goes dark last.
      this.indicator,
      this.hardware,
      this.nodes,
      this.network,
      this.mesh,
      this.disk,
      this.replicas,
      this.orchestrator,
      this.wifi,
      this.discovery,
      // Last: under a balena hand-over its start waits until the previous agent has released the nodes.
      this.fleet,
    ];
  }

  /** The network's view of the nodes (NodeInventory): every node not being deleted, with its bridge port. */
  nodeInputs(): NodeNetworkInput[] {
    const views = this.nodes
      .actions()
      .list()
      .filter((v) => v.state !== 'deleting');
    const owner = this.isDisabled('mesh') ? null : this.mesh.info().owner;
    const claimers = clusterAliasClaimers(views.map((v) => v.spec));
    return views.map((v) => ({
      name: v.name,
      address: v.address,
      policy: withClusterPorts(v.spec, withReplicaAlias(v.spec), { owner, claimsAlias: claimers.has(v.name) }),
      port: vethName(v.name),
    }));
  }

  /** The nodes' check of a node's replicas: the replicas room's, once started. */
  checkReplicas(name: string, replicas: NodeReplicas): void {
    if (this.isDisabled('replicas')) throw new UnavailableError('REPLICAS_UNAVAILABLE', 'replicas are turned off on this station (STATION_DISABLE)');
    this.replicas.checkSpec(name, replicas, this.nodes.volumeDriver()?.supports.transfer ?? false);
  }

  nodeSubnet(): string {
    return this.nodes.subnetCidr();
  }

  /** The fleet's hand-over (NodeHandOver): the old agent stops the nodes, the new one starts them again. */
  async releaseNodes(): Promise<void> {
    this.log.info({ nodes: await stopAllNodes(this.lxc, 20) }, 'fleet: nodes stopped for the next agent');
  }

  resumeNodes(): Promise<void> {
    return this.nodes.reconcileNow();
  }

  /** The network's view of the mesh (MeshView): owner, peers' APIs (for Dynamic Alias), interface, who has which address. */
  meshFacts(): MeshFacts {
    return meshFactsFrom(this.mesh.info(), this.mesh.peers(), this.config);
  }

  get auth(): AuthService {
    if (!this.authService) throw new Error('auth used before start()');
    return this.authService;
  }

  get isStarted(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    await mkdir(this.config.stateDir, { recursive: true, mode: 0o700 });
    await chmod(this.config.stateDir, 0o700);
    this.authService = new AuthService(ensureAdminToken(this.config.stateDir), this.config.authFailureLimit);
    for (const subsystem of this.subsystems) {
      if (this.isDisabled(subsystem.name)) continue;
      await subsystem.start();
      this.log.debug({ subsystem: subsystem.name }, 'started');
    }
    this.started = true;
    this.events.publish('station.started', { name: this.config.name });
  }

  /** Subsystems the owner turned off with STATION_DISABLE: never started, shown as off. */
  isDisabled(name: string): boolean {
    return this.config.disable
      .split(',')
      .map((s) => s.trim())
      .includes(name);
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const subsystem of [...this.subsystems].reverse()) {
      if (this.isDisabled(subsystem.name)) continue;
      try {
        await subsystem.stop();
      } catch (error) {
        this.log.error({ err: error, subsystem: subsystem.name }, 'stop failed');
      }
    }
  }
}

/**
 * A replicated node's policy with its own name among its aliases: NODE.OWNER.<domain> is published by
 * whichever station runs it, and since only the holder of its lease runs it (and the newest claim
 * wins at every resolver), the name follows the Active copy. The station-bound NODE.STATION name stays.
 */
function withReplicaAlias(spec: NodeSpec): NodeSpec['network'] {
  if (!spec.replicas) return spec.network;
  const aliases = spec.network?.aliases ?? [];
  return { ...spec.network, aliases: aliases.includes(spec.name) ? aliases : [...aliases, spec.name] } as NodeSpec['network'];
}
