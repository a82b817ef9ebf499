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
import { NetworkSubsystem } from './network/network-subsystem.ts';
import { vethName } from './nodes/lxc/names.ts';
import { meshFactsFrom } from './network/mesh-facts.ts';
import { LxcDriver } from './nodes/lxc/driver.ts';
import { FleetSubsystem } from './fleet/fleet-subsystem.ts';
import { fleetEnvironment } from './fleet/env.ts';
import { gateDriver, stopAllNodes } from './fleet/gated-driver.ts';
import { StatusService } from './status.ts';
import type { Subsystem } from './subsystem.ts';

export interface SystemDeps {
  config: Config;
  log: Logger;
  /** the command runner; tests may wrap it to observe calls, never to fake engines */
  run?: Runner;
  /** where balena's variables are read from (default process.env); the fleet subsystem is on under balena only */
  env?: NodeJS.ProcessEnv;
}

export class StationSystem {
  readonly config: Config;
  readonly log: Logger;
  readonly run: Runner;
  readonly events = new EventBus();
  readonly metrics = new MetricsRegistry();
  readonly hardware: HardwareSubsystem;
  readonly wifi: WifiSubsystem;
  readonly discovery: DiscoverySubsystem;
  readonly indicator: IndicatorSubsystem;
  readonly mesh: MeshSubsystem;
  readonly nodes: NodesSubsystem;
  readonly network: NetworkSubsystem;
  readonly fleet: FleetSubsystem;
  readonly status: StatusService;
  /** in start order; stopped in reverse */
  readonly subsystems: Subsystem[];
  private authService: AuthService | undefined;
  private started = false;

  constructor(deps: SystemDeps) {
    this.config = deps.config;
    this.log = deps.log;
    this.run = deps.run ?? exec;
    this.hardware = new HardwareSubsystem({ run: this.run, events: this.events, log: this.log.child({ subsystem: 'hardware' }), nodePath: this.config.lxcPath, refreshSeconds: this.config.hardwareRefreshSeconds });
    this.subsystems = [this.hardware];
    const nodesLog = this.log.child({ subsystem: 'nodes' });
    // Under balena, node changes wait for the fleet's hand-over and hold the update lock (agent/fleet);
    // with the fleet subsystem turned off nothing would ever grant ownership, so nodes are not gated.
    this.fleet = new FleetSubsystem({ env: fleetEnvironment(deps.env ?? process.env), stateDir: this.config.stateDir, log: this.log.child({ subsystem: 'fleet' }), status: () => this.status.status(), reportSeconds: this.config.fleetReportSeconds });
    const lxcDriver = new LxcDriver({ lxcPath: this.config.lxcPath, templateCache: this.config.templateCache, run: this.run, log: nodesLog });
    this.nodes = new NodesSubsystem({ config: this.config, events: this.events, log: nodesLog, driver: this.isDisabled('fleet') ? lxcDriver : gateDriver(lxcDriver, this.fleet), validatePolicy: (name, policy) => this.network.validateCandidate(name, policy), trafficCounters: (name) => this.network.countersFor(name),
      danglingReferences: (name, policy, localNodes) => this.network.danglingReferences(name, policy, localNodes),
      // node traffic to other stations' nodes keeps its addresses: the mesh routes node subnets
      routedInterfaces: [tunDevFor(this.config.stateDir, this.config.meshTunDev)] });
    this.fleet.onRelease(async () => { this.log.info({ nodes: await stopAllNodes(lxcDriver, 20) }, 'fleet: nodes stopped for the next agent'); });
    this.fleet.onTakeover(() => this.nodes.reconcileNow());
    this.subsystems.push(this.nodes);
    // Traffic control and names for the nodes: follows the node service (node.* events) and the mesh.
    this.network = new NetworkSubsystem({
      config: this.config, run: this.run, events: this.events, log: this.log.child({ subsystem: 'network' }),
      nodeSource: () => this.nodes.actions().list().filter((v) => v.state !== 'deleting').map((v) => ({ name: v.name, address: v.address, policy: v.spec.network, port: vethName(v.name) })),
      // owner, peers' APIs (for Dynamic Alias), the mesh interface and who has which mesh address
      meshSource: () => meshFactsFrom(this.mesh.info(), this.mesh.peers(), this.config),
      nodeSubnetSource: () => this.nodes.subnetCidr(),
    });
    this.subsystems.push(this.network);
    this.mesh = new MeshSubsystem({ config: this.config, run: this.run, events: this.events, log: this.log.child({ subsystem: 'mesh' }) });
    this.subsystems.push(this.mesh);
    // In a mesh, nodes use the subnet the owner's authority allocated to this station (peers route
    // it here over Nebula); nodes made before joining move to it, and the resolver and table follow.
    this.mesh.onNodeSubnet(async (cidr) => {
      await this.nodes.useSubnet(cidr);
      await this.network.setNodeSubnet(this.nodes.subnetCidr());
    });
    // The nodes' mesh-facing policies become Nebula firewall entries (certificates carry owner-NAME groups).
    this.mesh.setFirewallSource(() => this.network.meshFirewall());
    // What a person sees and touches: Wi-Fi onboarding, mDNS, the LED, link button and pairing window.
    this.wifi = new WifiSubsystem({ run: this.run, events: this.events, log: this.log.child({ subsystem: 'wifi' }), config: this.config });
    this.discovery = new DiscoverySubsystem({ config: this.config, events: this.events, log: this.log.child({ subsystem: 'discovery' }) });
    this.indicator = new IndicatorSubsystem({
      config: this.config, events: this.events, log: this.log.child({ subsystem: 'indicator' }), auth: () => this.auth,
      ledInputs: () => ({ started: this.started, health: this.status.status().health, hotspot: this.wifi.hotspotActive }),
      resetNetwork: () => this.wifi.resetNetwork(),
    });
    this.subsystems.push(this.wifi, this.discovery);
    // First to start, last to stop: the LED blinks "booting" while the others start, and goes dark last.
    this.subsystems.unshift(this.indicator);
    // Last: under a balena hand-over its start waits until the previous agent has released the nodes.
    this.subsystems.push(this.fleet);
    this.status = new StatusService(this);
    this.status.registerMetrics(this.metrics);
    this.events.subscribe(() => this.status.invalidate());
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
    return this.config.disable.split(',').map((s) => s.trim()).includes(name);
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
