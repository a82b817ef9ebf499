// The Active side: this station's replicated nodes. Each holds its node lease in the owner's lease
// store while it runs (lease/node-lease.ts: its create revision is the fencing token), and after
// every snapshot set its Inactive stations pull the newest snapshots (copy-sender.ts) and get
// the spec. A holder that cannot renew fences itself: where failover is automatic (another station
// could be promoted) the node is stopped at once, and started again when the lease is held again.
import type { Writable } from 'node:stream';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from '../../errors.ts';
import { KeyedSerialQueue } from '../../lib/serial-queue.ts';
import type { NodeView } from '../../nodes/view.ts';
import { NodeLease } from '../lease/node-lease.ts';
import { copyLag, type ReplicaStatus } from './replica-status.ts';
import type { ReplicasDeps } from '../deps.ts';
import { activeKey, movingKey } from '../lease/active-watch.ts';
import { demote, retire } from './leaving.ts';
import { CopySender } from './copy-sender.ts';
import type { EtcdClient } from '../lease/etcd-client.ts';

export interface LeaseView {
  held: boolean;
  token: number | null;
  /** who holds it where this station does not (null: nobody, or unknown) */
  holder: string | null;
  reason: string | null;
}

interface Replicated {
  lease: NodeLease | null;
  view: LeaseView;
  /** stopped by its fence: started again once the lease is held again */
  fenced: boolean;
  /** the last try to take the lease found no lease store member answering */
  storeDown: boolean;
  /** a planned move runs: no lease is taken and the node does not start here */
  moving: boolean;
  /** a person deleted it: when it is gone its copies go too (rather than one taking it over) */
  deleted: boolean;
}

export class ActiveCopies {
  private readonly deps: ReplicasDeps;
  private readonly nodes = new Map<string, Replicated>();
  private readonly queue = new KeyedSerialQueue();
  private readonly copies: CopySender;
  /** nodes a planned move handed over, and to whom */
  private readonly moved = new Map<string, string>();

  constructor(deps: ReplicasDeps) {
    this.deps = deps;
    this.copies = new CopySender(deps, (node) => {
      const view = this.nodes.get(node)?.view;
      return view?.held ? view.token : null;
    });
  }

  /** The lease key prefix of this owner's nodes. */
  prefix(): string {
    return `/station/replicas/${this.deps.mesh.info().owner ?? ''}/`;
  }

  /**
   * One tick: every replicated node here holds (or tries to take) its lease. One that went lets its
   * lease go; where a person deleted it, it is retired first, its copies told to go (leaving.ts).
   */
  async tick(): Promise<void> {
    const local = this.replicatedHere();
    for (const [name, r] of this.nodes) {
      if (local.some((n) => n.name === name)) continue;
      this.nodes.delete(name);
      // gone otherwise (the nodes turned off): the lease goes, and a copy may take the node over
      if (!r.deleted) await r.lease?.release().catch(() => r.lease?.stop());
      else await this.queue.run(name, () => retire(this.deps, this.prefix(), name, r.lease, this.copies.stations(name)));
      this.copies.forget(name);
    }
    this.copies.retryMissed();
    for (const node of local)
      if (!this.nodes.get(node.name)?.moving)
        await this.queue.run(node.name, async () => {
          // read again in the node's turn: a demotion queued before may have removed it meanwhile
          const now = this.replicatedHere().find((n) => n.name === node.name);
          if (now) await this.holdLease(now);
        });
  }

  /** The nodes are about to remove a replicated node (a deletion: a demotion forgot its node before). */
  removing(node: string): void {
    const r = this.nodes.get(node);
    if (r) r.deleted = true;
  }

  private replicatedHere(): NodeView[] {
    return this.deps.nodes.list().filter((n) => n.spec.replicas && n.state !== 'deleting');
  }

  /** A snapshot set was taken: the node's Inactive stations pull it (a copy running already runs again after). */
  snapshotTaken(node: string): void {
    void this.syncNow(node);
  }

  /** Brings every Inactive copy up to this station's newest snapshots (copy-sender.ts). */
  syncNow(node: string): Promise<void> {
    return this.nodes.has(node) ? this.copies.syncNow(node) : Promise.resolve();
  }

  /** Brings one copy up to this station's newest snapshots now (a planned move's target); its status after. */
  syncTo(node: string, station: string): Promise<ReplicaStatus | null> {
    return this.nodes.has(node) ? this.copies.syncTo(node, station) : Promise.resolve(null);
  }

  /** A planned move: the node's lease and tick are held back while the move runs (planned-move.ts). */
  holdFor(node: string, moving: boolean): void {
    const r = this.nodes.get(node);
    if (r) r.moving = moving;
  }

  /**
   * Gives the node's lease up now for a planned move to `to`: first the move is written down for a
   * while (two lease TTLs), so that no other Inactive promotes itself when the key goes; `to` takes it.
   */
  async releaseLease(node: string, to: string): Promise<void> {
    const r = this.nodes.get(node);
    if (!r?.lease) return;
    const client = this.deps.leaseStore.client();
    if (!client) throw new UnavailableError('LEASE_STORE_UNAVAILABLE', 'no lease store member answers: the lease cannot change hands now');
    await client.putForAWhile(movingKey(this.prefix(), node), to, 2 * this.deps.config.replicasLeaseSeconds);
    const lease = r.lease;
    r.lease = null;
    r.view = { held: false, token: null, holder: null, reason: 'released for a planned move' };
    await lease.release();
  }

  /**
   * A planned move handed the node to `to`: its demotion here keeps no diverged snapshot (nothing
   * diverged), and the move's note goes, so the copies' failover order holds again at once.
   */
  async movedTo(node: string, to: string): Promise<void> {
    this.moved.set(node, to);
    this.holdFor(node, false);
    await this.deps.leaseStore
      .client()
      ?.delete(movingKey(this.prefix(), node))
      .catch(() => undefined); // it expires by itself anyway
  }

  /** Whether another station holds the node's lease now (read from the lease store). */
  async takenElsewhere(node: string): Promise<boolean> {
    const value = await this.deps.leaseStore
      .client()
      ?.get(activeKey(this.prefix(), node))
      .catch(() => null);
    return !!value && value.value !== this.deps.mesh.info().name;
  }

  /** The node's lease view, or null when it is not a replicated node here. */
  leaseOf(node: string): LeaseView | null {
    return this.nodes.get(node)?.view ?? null;
  }

  async stop(): Promise<void> {
    for (const r of this.nodes.values()) r.lease?.stop(); // the lease runs out by itself: a restart takes it again
    this.nodes.clear();
  }

  /** What GET /nodes/:name/replicas shows of a node that runs here, or null. */
  report(node: string): { lease: LeaseView; replicas: ReplicaStatus[] } | null {
    const r = this.nodes.get(node);
    if (!r) return null;
    const now = Date.now();
    return { lease: r.view, replicas: this.copies.statuses(node).map((s) => ({ ...s, lagSeconds: copyLag(s, now) })) };
  }

  /** Serves one snapshot's stream to an Inactive station that was asked to pull it. */
  async stream(caller: string, node: string, volume: string, request: { snapshot: string; parent: string | null; token: number }, to: Writable): Promise<void> {
    const view = this.deps.nodes.list().find((n) => n.name === node);
    const r = this.nodes.get(node);
    if (!view?.spec.replicas || !r) throw new NotFoundError('REPLICATED_NODE_NOT_FOUND', `no replicated node ${node} runs here`);
    if (!view.spec.replicas.stations.includes(caller)) throw new ForbiddenError('NOT_A_REPLICA_STATION', `${caller} holds no copy of ${node}`);
    if (!r.view.held || r.view.token !== request.token)
      throw new ConflictError('LEASE_NOT_HELD', `this station does not hold ${node}'s lease with token ${request.token}`);
    const driver = this.deps.nodes.volumeDriver();
    if (!driver) throw new UnavailableError('NODES_UNAVAILABLE', 'the nodes are off');
    await driver.sendSnapshot({ node, volume }, request.snapshot, to, request.parent ? { parent: request.parent } : {});
  }

  /** The node's lease as this station would hold it (a fence stops the node where failover is automatic). */
  makeLease(node: string, client: EtcdClient): NodeLease {
    return new NodeLease({
      client,
      key: activeKey(this.prefix(), node),
      self: this.deps.mesh.info().name,
      ttlSeconds: this.deps.config.replicasLeaseSeconds,
      marginMs: this.deps.leaseStore.fenceMarginMs(),
      onFence: (why) => void this.fenced(node, why),
    });
  }

  /**
   * A node promoted here: its lease, taken by the promotion, is kept from now on. In the node's turn,
   * after any tick that began before it (which found the key held and must not have the last word).
   */
  adopt(node: string, lease: NodeLease | null, token: number | null): Promise<void> {
    return this.queue.run(node, async () => {
      const r = this.entry(node);
      r.lease = lease;
      r.view = lease
        ? { held: true, token, holder: this.deps.mesh.info().name, reason: null }
        : { held: false, token: null, holder: null, reason: 'promoted without the lease (forced)' };
      if (lease) this.snapshotTaken(node);
    });
  }

  private entry(name: string): Replicated {
    let r = this.nodes.get(name);
    if (!r) {
      r = {
        lease: null,
        view: { held: false, token: null, holder: null, reason: 'not taken yet' },
        fenced: false,
        storeDown: false,
        moving: false,
        deleted: false,
      };
      this.nodes.set(name, r);
    }
    return r;
  }

  /**
   * The nodes' start gate: may the node start here now? It takes the lease if nobody holds it. Called
   * while the node's converge holds its lock, so it neither demotes nor asks for a reconcile.
   */
  async leaseToStart(name: string): Promise<boolean> {
    if (this.mayRun(name)) return true;
    const node = this.deps.nodes.list().find((n) => n.name === name);
    const r = this.nodes.get(name);
    if (!node?.spec.replicas || r?.moving || r?.fenced) return this.mayRun(name);
    await this.queue.run(name, () => this.holdLease(node, { fromGate: true }));
    return this.mayRun(name);
  }

  private async holdLease(node: NodeView, how: { fromGate?: boolean } = {}): Promise<void> {
    const r = this.entry(node.name);
    if (r.lease?.held) return;
    const client = this.deps.leaseStore.client();
    if (!client) {
      r.storeDown = true;
      r.view = { held: false, token: null, holder: null, reason: 'the lease store does not answer (no member known)' };
      return;
    }
    const lease = this.makeLease(node.name, client);
    try {
      const got = await lease.acquire();
      if (this.nodes.get(node.name) !== r) return void (got.held && (await lease.release().catch(() => undefined)));
      if (!got.held) {
        r.view = { held: false, token: null, holder: got.holder, reason: `${got.holder ?? 'another station'} holds the lease` };
        if (got.holder && got.holder !== this.deps.mesh.info().name && !how.fromGate) await this.demote(node, got.holder);
        return;
      }
      r.lease = lease;
      r.view = { held: true, token: got.token, holder: this.deps.mesh.info().name, reason: null };
      r.storeDown = false;
      this.deps.events.publish('replicas.lease.taken', { node: node.name, token: got.token });
      // a node that waited for its lease (at boot) or was stopped by its fence starts now (not
      // awaited: a reconcile pass may wait for a node's converge that is waiting for this)
      const wasFenced = r.fenced;
      r.fenced = false;
      if (!how.fromGate && wasFenced) void this.deps.nodes.start(node.name).catch(() => undefined);
      else if (!how.fromGate && node.desiredState === 'running' && node.state !== 'running') void this.deps.nodes.reconcile();
      this.snapshotTaken(node.name); // bring the replicas up to date under the new token
    } catch (error) {
      r.storeDown = true;
      r.view = { held: false, token: null, holder: null, reason: `the lease store does not answer: ${(error as Error).message}` };
    }
  }

  /**
   * Whether the node may start here: this station holds its lease; or nobody can say (the lease
   * store does not answer) and failover is manual, so no other station promotes by itself. A node
   * another station holds, or one fenced while failover is automatic, waits.
   */
  mayRun(node: string): boolean {
    const r = this.nodes.get(node);
    if (r?.moving) return false;
    if (r?.view.held) return true;
    if (!r || r.fenced || r.view.holder) return false;
    const spec = this.deps.nodes.list().find((n) => n.name === node)?.spec;
    const voters = this.deps.leaseStore.voters();
    const manual = spec?.replicas?.failover === 'manual' || (voters !== null && voters < 3);
    return r.storeDown && manual;
  }

  /** Another station holds the node's lease: this copy becomes Inactive (leaving.ts). */
  private async demote(node: NodeView, holder: string): Promise<void> {
    this.nodes.delete(node.name);
    this.copies.forget(node.name);
    const planned = this.moved.get(node.name) === holder;
    this.moved.delete(node.name);
    await demote(this.deps, node, holder, planned);
  }

  private async fenced(node: string, why: string): Promise<void> {
    const r = this.nodes.get(node);
    if (!r) return;
    r.view = { held: false, token: null, holder: null, reason: `fenced: ${why}` };
    r.lease = null;
    const spec = this.deps.nodes.list().find((n) => n.name === node)?.spec;
    const automatic = spec?.replicas?.failover === 'auto' && (this.deps.leaseStore.voters() ?? 3) >= 3;
    // with manual failover nobody takes over by themselves: the node keeps serving
    if (automatic) {
      r.fenced = true;
      await this.deps.nodes.stopNow(node).catch((error: Error) => this.deps.log.error({ node, err: error }, 'fencing: the node could not be stopped'));
    }
    this.deps.events.publish('replicas.fenced', { node, why, stopped: automatic });
  }
}
