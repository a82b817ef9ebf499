// Replicas (issue 14, docs/replicas.md): a node whose Active copy runs here and whose Inactive copies
// wait on the owner's other stations, or the other way round. Four parts:
//   lease store  this station's etcd member, and on the authority the membership rounds (lease/)
//   active       this station's replicated nodes: their leases, and their copies pulled after every
//                snapshot set by the Inactive stations (active/)
//   inactive     the copies held here of the owner's other stations' nodes (inactive/)
//   failover     the lease watch: an Inactive here promotes itself when the Active's lease expired
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import { type MoveResult, moveNode } from './active/planned-move.ts';
import type { NodeReplicas } from '../nodes/spec.ts';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { ActiveCopies, type LeaseView } from './active/active-copies.ts';
import type { ReplicaStatus } from './active/replica-status.ts';
import type { ReplicasDeps } from './deps.ts';
import { FailoverWatch } from './inactive/failover-watch.ts';
import { InactiveCopies } from './inactive/inactive-copies.ts';
import { copyLagSeconds, promote, type PromoteOptions } from './inactive/promote.ts';
import { LeaseStore, type LeaseStoreDeps, type LeaseStoreReport } from './lease/lease-store.ts';
import { checkReplicas } from './replicas-spec.ts';
import { replicaSamples } from './metrics.ts';
import type { MetricsRegistry } from '../metrics.ts';

const TICK_MS = 2000;

export interface NodeReplicasView {
  node: string;
  /** where this station stands: it runs the Active copy, or holds an Inactive one */
  role: 'active' | 'inactive';
  /** the station running the Active copy, as this station last saw it */
  active: string | null;
  lease: LeaseView | null;
  /** on the Active: each Inactive copy */
  replicas: ReplicaStatus[];
  /** on an Inactive: how old its newest snapshot is, and why it would not promote itself */
  lagSeconds: number | null;
  held: string | null;
}

export interface ReplicasReport {
  leaseStore: LeaseStoreReport;
  /** automatic failover needs three voting members; otherwise only a person promotes */
  failover: { automatic: boolean; reason: string | null };
  nodes: NodeReplicasView[];
}

export class ReplicasSubsystem implements Subsystem {
  readonly name = 'replicas';
  readonly leaseStore: LeaseStore;
  readonly active: ActiveCopies;
  readonly inactive: InactiveCopies;
  readonly failover: FailoverWatch;
  private readonly deps: ReplicasDeps;
  private timer: NodeJS.Timeout | undefined;
  private readonly counts = { promotions: { automatic: 0, manual: 0 }, fences: 0 };
  /** the copies held here with their lag, as of the last tick (metrics are read synchronously) */
  private held: { node: string; lagSeconds: number | null }[] = [];
  private unsubscribe: (() => void) | undefined;
  /** nodes being made by a promotion: their replicas may name a station that is away (the old Active) */
  private readonly promoting = new Map<string, Promise<{ node: string; from: string; token: number | null; lagSeconds: number | null }>>();

  constructor(deps: Omit<ReplicasDeps, 'leaseStore' | 'demoted'> & Pick<LeaseStoreDeps, 'peers'>) {
    this.leaseStore = new LeaseStore(deps);
    this.deps = { ...deps, leaseStore: this.leaseStore, demoted: (spec, active) => this.inactive.adoptDemoted(spec, active) };
    this.active = new ActiveCopies(this.deps);
    this.inactive = new InactiveCopies({
      stateDir: deps.config.stateDir,
      driver: () => deps.nodes.volumeDriver(),
      localNode: (name) => deps.nodes.list().some((n) => n.name === name),
      owner: () => deps.mesh.info().owner ?? '',
    });
    this.failover = new FailoverWatch(this.deps, this.inactive, {
      promote: (node) => this.promote(node, { force: false, automatic: true }),
      drop: (node, by, revision) => this.dropped(node, by, revision),
    });
  }

  async start(): Promise<void> {
    await this.leaseStore.start();
    this.unsubscribe = this.deps.events.subscribe((event) => {
      if (event.type === 'disk.snapshot.created') this.active.snapshotTaken(event.data.node);
      if (event.type === 'replicas.promoted') this.counts.promotions[event.data.automatic ? 'automatic' : 'manual']++;
      if (event.type === 'replicas.fenced') this.counts.fences++;
    });
    const tick = () =>
      Promise.all([this.active.tick(), this.failover.tick(), this.measureHeld()]).catch((error) => this.deps.log.warn({ err: error }, 'replicas tick failed'));
    this.timer = setInterval(() => void tick(), TICK_MS);
    this.timer.unref();
    void tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.failover.stop();
    await this.active.stop();
    await this.leaseStore.stop();
  }

  /** station_replica_* (metrics.ts) */
  registerMetrics(metrics: MetricsRegistry): void {
    metrics.register(() =>
      replicaSamples({
        active: () =>
          this.deps.nodes.list().flatMap((n) => (this.active.report(n.name) ? [{ node: n.name, replicas: this.active.report(n.name)!.replicas }] : [])),
        inactive: () => this.held,
        voters: () => this.leaseStore.voters(),
        counts: () => this.counts,
      }),
    );
  }

  private async measureHeld(): Promise<void> {
    const now = Date.now();
    this.held = (await this.inactive.list()).map((c) => ({ node: c.node, lagSeconds: copyLagSeconds(c, now) }));
  }

  health(): SubsystemHealth {
    return this.leaseStore.health();
  }

  /** The node spec's replicas, checked against the mesh as this station sees it (4xx on the first problem). */
  checkSpec(name: string, replicas: NodeReplicas, volumesCanSend: boolean): void {
    if (this.promoting.has(name)) return;
    const info = this.deps.mesh.info();
    if (!info.owner) throw new ConflictError('REPLICAS_NEED_MESH', "replicas live on the owner's other stations: this station is in no mesh");
    if (!volumesCanSend) throw new ConflictError('REPLICAS_NEED_BTRFS', "replicas are copied with btrfs send: this station's volumes are not on btrfs");
    checkReplicas(replicas, { self: info.name, owner: info.owner, peers: this.deps.mesh.peers() });
  }

  /** Whether a replicated node may start here (the nodes ask before starting one); takes its lease if it is free. */
  async mayStart(name: string): Promise<boolean> {
    return this.promoting.has(name) || (await this.active.leaseToStart(name));
  }

  /**
   * Makes the Inactive copy held here the Active node (a person's `station node promote`, the
   * failover watch, or a planned move's target). One promotion of a node at a time: a second asker
   * gets the running one's result.
   */
  promote(node: string, options: PromoteOptions): Promise<{ node: string; from: string; token: number | null; lagSeconds: number | null }> {
    const running = this.promoting.get(node);
    if (running) return running;
    const promotion = (async () => {
      const result = await promote(this.deps, this.inactive, (client) => this.active.makeLease(node, client), node, options);
      await this.active.adopt(node, result.lease, result.token);
      return { node: result.node, from: result.from, token: result.token, lagSeconds: result.lagSeconds };
    })().finally(() => this.promoting.delete(node));
    this.promoting.set(node, promotion);
    return promotion;
  }

  /** A planned move of a node running here to one of its Inactive stations. */
  move(node: string, to: string): Promise<MoveResult> {
    return moveNode(this.deps, this.active, node, to);
  }

  /** The Active `caller` handed `node` over in a planned move: promote the copy held here. */
  async takeOver(caller: string, node: string) {
    const copy = await this.inactive.get(node);
    if (!copy) throw new NotFoundError('REPLICA_NOT_FOUND', `this station holds no Inactive copy of ${node}`);
    if (copy.active !== caller) throw new ForbiddenError('NOT_THE_ACTIVE', `${caller} does not run the Active copy of ${node} (${copy.active} does)`);
    return this.promote(node, { force: false, automatic: false });
  }

  /** The Active `caller` deleted `node`: the copy held here goes (false: none held). */
  async dropCopy(caller: string, node: string): Promise<boolean> {
    const copy = await this.inactive.get(node);
    if (!copy) return false;
    if (copy.active !== caller) throw new ForbiddenError('NOT_THE_ACTIVE', `${caller} does not run the Active copy of ${node} (${copy.active} does)`);
    return this.dropped(node, caller);
  }

  private async dropped(node: string, by: string, before?: number): Promise<boolean> {
    if (!(await this.inactive.drop(node, before))) return false;
    this.failover.held.delete(node);
    this.deps.events.publish('replicas.copy.dropped', { node, active: by });
    this.deps.log.info({ node, by }, 'replicas: the copy held here was dropped (its node was deleted on its Active)');
    return true;
  }

  /** One node's replicas as this station sees them, or null when it neither runs nor holds a copy. */
  async nodeView(node: string): Promise<NodeReplicasView | null> {
    const active = this.active.report(node);
    if (active)
      return { node, role: 'active', active: this.deps.mesh.info().name, lease: active.lease, replicas: active.replicas, lagSeconds: null, held: null };
    const copy = await this.inactive.get(node);
    if (!copy) return null;
    return {
      node,
      role: 'inactive',
      // the station whose copies arrive here (with the highest fencing token seen)
      active: copy.active,
      lease: null,
      replicas: [],
      lagSeconds: copyLagSeconds(copy, Date.now()),
      held: this.failover.held.get(node) ?? null,
    };
  }

  async report(): Promise<ReplicasReport> {
    const leaseStore = this.leaseStore.report();
    const automatic = leaseStore.voters >= 3;
    const reason = automatic
      ? null
      : `the lease store has ${leaseStore.voters} voting member(s): automatic failover needs three of the owner's stations, so only a person promotes`;
    const names = [
      ...this.deps.nodes
        .list()
        .filter((n) => n.spec.replicas)
        .map((n) => n.name),
      ...(await this.inactive.list()).map((c) => c.node),
    ];
    const nodes = (await Promise.all([...new Set(names)].sort().map((n) => this.nodeView(n)))).filter((v): v is NodeReplicasView => v !== null);
    return { leaseStore, failover: { automatic, reason }, nodes };
  }
}
