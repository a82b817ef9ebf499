// Disposable Nodes as a station subsystem: checks the driver can work here (else `off`, with the
// reason, and the agent runs on), prepares the host's node network, adopts the nodes that are
// already running (never restarting them), and runs the reconcile loop: at start, every
// reconcileSeconds, and promptly on LXC state changes it can see cheaply: a container directory
// appearing or disappearing in the lxcpath (inotify), a running node's init exiting (pid check).
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config/schema.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { StateDocument } from '../store/document.ts';
import type { HealthState, Subsystem, SubsystemHealth } from '../subsystem.ts';
import { UnavailableError } from '../errors.ts';
import type { NodeDriver } from './driver.ts';
import type { NodeServiceDeps } from './service.ts';
import { parseSubnet, gatewayOf, intToIp, readdress, type Subnet } from './ipam.ts';
import type { BuildContext } from './build.ts';
import { openNodesDocument, applyBoot, recordOf, type NodesState } from './store.ts';
import { readBootId } from './host-capacity.ts';
import { NodeService } from './service.ts';
import { openStorage, type OpenedStorage } from '../storage/select.ts';
import type { VolumeDriver } from '../storage/driver.ts';
import { exec } from '../exec.ts';
import { VolumePool } from '../storage/volume-pool.ts';

export interface NodesSubsystemDeps {
  config: Pick<
    Config,
    'stateDir' | 'lxcPath' | 'bridge' | 'nodeSubnet' | 'name' | 'domain' | 'reconcileSeconds' | 'storageDriver' | 'storagePoolFile' | 'storagePoolSizeMb'
  >;
  driver: NodeDriver;
  events: EventBus;
  log: Logger;
  /** checks a node's network policy against the station's other nodes (the Network Node); throws ValidationError */
  validatePolicy?: (name: string, policy: unknown) => void;
  trafficCounters?: NodeServiceDeps['trafficCounters'];
  danglingReferences?: NodeServiceDeps['danglingReferences'];
  /** checks a node's replicas against the mesh (the replicas room) */
  checkReplicas?: NodeServiceDeps['checkReplicas'];
  mayStart?: NodeServiceDeps['mayStart'];
  removing?: NodeServiceDeps['removing'];
  checkOrchestrator?: NodeServiceDeps['checkOrchestrator'];
  /** interfaces where nodes keep their own addresses (no NAT): the mesh's tun device */
  routedInterfaces?: string[];
}

// Many inotify events arrive for one lxc-create/lxc-destroy; one pass shortly after is enough.
const WATCH_DEBOUNCE_MS = 300;
// How often running nodes' init pids are checked (a signal-0 kill each: no program runs).
const PID_CHECK_MS = 1000;

export class NodesSubsystem implements Subsystem {
  readonly name = 'nodes';
  private readonly deps: NodesSubsystemDeps;
  private service: NodeService | undefined;
  private state: HealthState = 'starting';
  private reason: string | undefined;
  private networkReady = false;
  private networkError: string | undefined;
  private subnet: Subnet | undefined;
  private context: BuildContext | undefined;
  private storage: OpenedStorage | undefined;
  private pool: VolumePool | undefined;
  private doc: StateDocument<NodesState> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pidTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private pass: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private passes = 0;

  constructor(deps: NodesSubsystemDeps) {
    this.deps = deps;
  }

  async start(): Promise<void> {
    const { config, driver, log } = this.deps;
    this.stopped = false;
    const capability = await driver.capability().catch((error: Error) => ({ available: false, reason: error.message }));
    if (!capability.available) return this.off(`LXC is not usable here: ${capability.reason}`);
    const doc = openNodesDocument(config.stateDir);
    await doc.load();
    this.doc = doc;
    try {
      // A station in a mesh uses the subnet its authority allocated (kept with the nodes).
      this.subnet = parseSubnet(doc.get().subnet ?? config.nodeSubnet);
    } catch (error) {
      return this.off(`bad node subnet: ${(error as Error).message}`);
    }
    await this.applyBoot(doc);
    try {
      // directory volumes move into subvolumes with their node stopped; the reconcile loop then
      // rebuilds it on the new mount source (its build changed) and starts it again
      const stopNode = async (node: string): Promise<void> => {
        const observed = await driver.inspect(node);
        if (observed && observed.state !== 'stopped') await driver.stop(node, { timeoutSeconds: 30 });
      };
      this.storage = await openStorage(config, exec, { stopNode });
    } catch (error) {
      return this.off(`node volumes cannot be stored: ${(error as Error).message}`);
    }
    log.info({ driver: this.storage.driver.name, reason: this.storage.reason, migrated: this.storage.migrated }, 'node volumes');
    this.pool = new VolumePool(this.storage, exec);
    this.context = { subnet: this.subnet, bridge: config.bridge, storage: this.storage.driver };
    this.service = new NodeService({
      driver,
      doc,
      events: this.deps.events,
      log,
      ...(this.deps.validatePolicy ? { validatePolicy: this.deps.validatePolicy } : {}),
      ...(this.deps.trafficCounters ? { trafficCounters: this.deps.trafficCounters } : {}),
      ...(this.deps.danglingReferences ? { danglingReferences: this.deps.danglingReferences } : {}),
      ...(this.deps.checkReplicas ? { checkReplicas: this.deps.checkReplicas } : {}),
      ...(this.deps.mayStart ? { mayStart: this.deps.mayStart } : {}),
      ...(this.deps.removing ? { removing: this.deps.removing } : {}),
      ...(this.deps.checkOrchestrator ? { checkOrchestrator: this.deps.checkOrchestrator } : {}),
      context: this.context,
      // a failed node is retried after half a reconcile period (5 s by default), then doubling
      retryBaseMs: config.reconcileSeconds * 500,
      station: { name: config.name, domain: config.domain, lxcPath: config.lxcPath },
    });
    await this.prepareNetwork();
    this.state = 'ok';
    this.trigger();
    this.timer = setInterval(() => this.trigger(), config.reconcileSeconds * 1000);
    this.timer.unref();
    this.pidTimer = setInterval(() => this.checkPids(), PID_CHECK_MS);
    this.pidTimer.unref();
    await this.watchLxcPath();
  }

  async stop(): Promise<void> {
    // Only the agent's own work ends: nodes keep running and the next agent adopts them.
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.pidTimer);
    clearTimeout(this.debounce);
    this.watcher?.close();
    if (this.pass) await Promise.race([this.pass, new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  health(): SubsystemHealth {
    if (this.state === 'off' || this.state === 'starting') return { state: this.state, ...(this.reason ? { reason: this.reason } : {}) };
    if (this.networkError) return { state: 'degraded', reason: `node network not ready: ${this.networkError}` };
    const failing = this.service?.failing() ?? [];
    const problems = [this.pool?.problem(), failing.length ? `nodes failing: ${failing.join('; ').slice(0, 300)}` : null].filter(Boolean);
    if (problems.length) return { state: 'degraded', reason: problems.join('; ') };
    return { state: 'ok' };
  }

  summary(): Record<string, unknown> {
    if (!this.service) return { available: false };
    return { ...this.service.summary(), reconcilePasses: this.passes, storageDriver: this.storage?.driver.name ?? null, storage: this.storage?.reason ?? null };
  }

  /** Where volumes live, how full it is, what each holds, and growing the pool (null while nodes are off). */
  volumePool(): VolumePool | null {
    return this.pool ?? null;
  }

  /** The driver node volumes live on (Infinite Disk snapshots and copies them); null while nodes are off. */
  volumeDriver(): VolumeDriver | null {
    return this.storage?.driver ?? null;
  }

  /** The node actions; 503 (NODES_UNAVAILABLE) when LXC cannot work on this station. */
  actions(): NodeService {
    if (!this.service) throw new UnavailableError('NODES_UNAVAILABLE', this.reason ?? 'the node service is starting');
    return this.service;
  }

  /** The node subnet in use (CIDR): the configured one, or the one the mesh allocated. */
  subnetCidr(): string {
    return this.subnet ? `${intToIp(this.subnet.network)}/${this.subnet.prefix}` : this.deps.config.nodeSubnet;
  }

  /**
   * Moves the nodes to another subnet (the one the owner's authority allocated at join, which peers
   * route to this station over the mesh). Addresses keep their host numbers where they fit; the
   * bridge gets the new gateway; each node is then recreated by the reconcile loop with its new
   * address (its build changed), volumes kept. Resolves once the new addresses are stored.
   */
  async useSubnet(cidr: string): Promise<void> {
    const next = parseSubnet(cidr);
    const doc = this.doc;
    if (!doc || !this.subnet || !this.context) return; // nodes are off: nothing is addressed
    const from = this.subnet;
    if (from.network === next.network && from.prefix === next.prefix) return;
    const moved = readdress(from, next, Object.fromEntries(Object.entries(doc.get().nodes).map(([n, r]) => [n, r.address])));
    await doc.update((d) => {
      d.subnet = cidr;
      // the change runs after earlier queued updates: a node deleted meanwhile is skipped
      for (const [name, address] of Object.entries(moved)) {
        const record = recordOf(d, name);
        if (record) record.address = address;
      }
    });
    this.subnet = next;
    this.context.subnet = next;
    this.deps.log.info({ from: `${intToIp(from.network)}/${from.prefix}`, to: cidr, nodes: moved }, 'nodes move to the subnet the mesh allocated');
    this.deps.events.publish('node.subnet', { subnet: cidr, nodes: moved });
    this.networkReady = false;
    await this.prepareNetwork();
    this.trigger();
  }

  /** Runs a reconcile pass now (or right after the current one) and resolves when it is done. */
  reconcileNow(): Promise<void> {
    this.trigger();
    return this.pass ?? Promise.resolve();
  }

  private off(reason: string): void {
    this.state = 'off';
    this.reason = reason;
    this.deps.log.warn({ reason }, 'nodes are off');
  }

  private async applyBoot(doc: StateDocument<NodesState>): Promise<void> {
    const { changed, next } = applyBoot(doc.get(), await readBootId());
    if (next !== doc.get()) await doc.update(() => next);
    if (changed.length) this.deps.log.info({ nodes: changed }, 'host rebooted: node states set from autostart');
  }

  private async prepareNetwork(): Promise<void> {
    const { config, driver, log } = this.deps;
    const subnet = this.subnet!;
    try {
      await driver.prepare({
        bridge: config.bridge,
        gatewayCidr: `${gatewayOf(subnet)}/${subnet.prefix}`,
        subnet: this.subnetCidr(),
        ...(this.deps.routedInterfaces?.length ? { routedInterfaces: this.deps.routedInterfaces } : {}),
      });
      this.networkReady = true;
      this.networkError = undefined;
    } catch (error) {
      this.networkError = (error as Error).message;
      log.error({ err: error }, 'preparing the node network failed; will retry each reconcile pass');
    }
  }

  private trigger(): void {
    if (this.stopped || !this.service) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPasses().finally(() => {
      this.pass = undefined;
    });
  }

  private async runPasses(): Promise<void> {
    do {
      this.again = false;
      if (!this.networkReady) await this.prepareNetwork();
      try {
        await this.service!.reconcileAll();
      } catch (error) {
        this.deps.log.warn({ err: error }, 'reconcile pass failed');
      }
      await this.pool?.refresh().catch((error: unknown) => this.deps.log.warn({ err: error }, 'reading the volume pool usage failed'));
      this.passes++;
    } while (this.again && !this.stopped);
  }

  /** A node stopped behind the agent's back (lxc-stop, its init died): its pid is gone. */
  private checkPids(): void {
    if (this.pass || !this.service) return;
    for (const pid of this.service.runningPids()) {
      try {
        process.kill(pid, 0);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
          this.trigger();
          return;
        }
      }
    }
  }

  /** lxc-destroy or lxc-create behind the agent's back shows up as a directory change in the lxcpath. */
  private async watchLxcPath(): Promise<void> {
    const { lxcPath } = this.deps.config;
    try {
      await mkdir(lxcPath, { recursive: true });
      this.watcher = watch(lxcPath, { persistent: false }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.trigger(), WATCH_DEBOUNCE_MS);
      });
      this.watcher.on('error', (error) => this.deps.log.warn({ err: error }, 'watching the lxcpath failed; the periodic pass still runs'));
    } catch (error) {
      this.deps.log.warn({ err: error }, 'cannot watch the lxcpath; the periodic pass still runs');
    }
  }
}
