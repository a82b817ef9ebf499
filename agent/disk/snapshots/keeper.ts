// The disk room's `snapshots` part: every node's volumes snapshotted as one set every
// `disk.snapshotSeconds` (schedule.ts), then pruned btrbk-style (retention.ts); sets on demand,
// listed, deleted, rolled back, opened as volumes and read from, for the routes. Work on one node
// runs one at a time (a scheduled set, a set on demand, a rollback); different nodes proceed
// independently. A failure is an event and shows in health; it never stops the agent.
// A station whose volume driver cannot snapshot (dir) has this part off, with the reason.
import type { ReadStream } from 'node:fs';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../errors.ts';
import { KeyedSerialQueue } from '../../lib/serial-queue.ts';
import { nodeDisk } from '../../nodes/spec.ts';
import type { NodeView } from '../../nodes/view.ts';
import type { VolumeRef } from '../../storage/driver.ts';
import type { SubsystemHealth } from '../../subsystem.ts';
import type { DiskDeps, DiskPart } from '../deps.ts';
import type { SnapshotsReport } from '../overview.ts';
import { PartWork } from '../part-work.ts';
import { NodeSnapshots, type SnapshotSetView } from './node-snapshots.ts';
import { DEFAULT_RETENTION, toDelete, type RetentionPolicy } from './retention.ts';
import { isDue } from './schedule.ts';
import { parseSetName, type SetRecord, type SnapshotKind } from './set-records.ts';

const TICK_MS = 1000;

export interface RestoreRequest {
  /** the set's volumes to roll back (all when left out) */
  volumes?: string[];
  /** open one volume of the set as this new volume instead of rolling back */
  asNewVolume?: { volume: string; node?: string };
}

export class SnapshotKeeper implements DiskPart {
  readonly name = 'snapshots';
  private readonly deps: DiskDeps;
  private readonly queue = new KeyedSerialQueue();
  private readonly retention: RetentionPolicy;
  private ops: NodeSnapshots | null = null;
  private offReason: string | null = 'not started';
  private readonly lastAt = new Map<string, number>();
  private readonly failures = new Map<string, string>();
  private readonly pins = new Map<string, number>();
  private readonly work = new PartWork();
  private unsubscribe: (() => void) | null = null;

  constructor(deps: DiskDeps, retention: RetentionPolicy = DEFAULT_RETENTION) {
    this.deps = deps;
    this.retention = retention;
  }

  async start(): Promise<void> {
    const driver = this.deps.nodes.volumeDriver();
    if (!driver) return this.off('the nodes are off: no volumes to snapshot');
    if (!driver.supports.snapshots) return this.off(`the ${driver.name} volume driver has no snapshots (volumes on btrfs have)`);
    this.ops = new NodeSnapshots({ driver, run: this.deps.run, stateDir: this.deps.config.stateDir, log: this.deps.log });
    const { failed } = await this.ops.recover((node) => this.deps.nodes.list().find((n) => n.name === node)?.pid ?? null);
    if (failed.length) this.failures.set('(start)', `left behind by a stopped agent: ${failed.join('; ')}`);
    for (const node of this.deps.nodes.list()) {
      const newest = (await this.ops.records.list(node.name)).filter((r) => r.kind === 'auto').at(-1);
      if (newest) this.lastAt.set(node.name, Date.parse(newest.createdAt));
    }
    // a node deleted with its volumes took their snapshots along: its set records follow
    this.unsubscribe = this.deps.events.subscribe((event) => {
      if (event.type !== 'node.deleted' || !event.data.volumesDeleted) return;
      const node = event.data.name;
      this.lastAt.delete(node);
      this.failures.delete(node);
      this.work.track(this.queue.run(node, () => this.ops!.records.removeNode(node))).catch(() => undefined);
    });
    this.offReason = null;
    this.work.every(TICK_MS, () => this.tick());
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.work.stop();
  }

  health(): SubsystemHealth {
    if (this.offReason) return { state: 'off', reason: this.offReason };
    if (!this.failures.size) return { state: 'ok' };
    return { state: 'degraded', reason: [...this.failures].map(([node, why]) => `${node}: ${why}`).join('; ') };
  }

  // ---- what the routes call ----

  async list(node: string): Promise<SnapshotSetView[]> {
    const ops = this.require();
    this.node(node);
    return ops.list(node);
  }

  /** A set on demand (kept until deleted). */
  async snapshot(node: string): Promise<SetRecord> {
    this.require();
    const view = this.node(node);
    return this.work.track(this.queue.run(node, () => this.take(view, 'manual')));
  }

  async remove(node: string, name: string): Promise<SetRecord> {
    const ops = this.require();
    this.node(node);
    return this.queue.run(node, async () => {
      if (this.pins.has(`${node}@${name}`))
        throw new ConflictError('SNAPSHOT_IN_USE', `snapshot ${name} of ${node} is being copied to a peer: try again when that is done`);
      const record = await ops.delete(node, name);
      this.deps.events.publish('disk.snapshot.deleted', { node, snapshot: name, reason: 'request' });
      return record;
    });
  }

  /** Rolls volumes back (node stopped) or opens one as a new volume (node may run). */
  async restore(
    node: string,
    name: string,
    request: RestoreRequest = {},
  ): Promise<{ node: string; snapshot: string; restored: string[]; opened: VolumeRef | null }> {
    const ops = this.require();
    this.node(node);
    const set = await ops.get(node, name); // a bad or unknown name is refused before anything else
    const open = request.asNewVolume;
    if (open) {
      const volumes = request.volumes ?? (set.volumes.length === 1 ? set.volumes : undefined);
      if (volumes?.length !== 1)
        throw new ValidationError('INVALID_RESTORE', `asNewVolume opens one volume: name it in volumes (the set has ${set.volumes.join(', ')})`);
      const target = { node: open.node ?? node, volume: open.volume };
      await this.queue.run(node, () => ops.openAsVolume(node, name, volumes[0]!, target));
      return { node, snapshot: name, restored: [], opened: target };
    }
    return this.queue.run(node, async () => {
      // checked inside the queue: nothing of ours starts the node meanwhile
      const current = this.node(node);
      if (current.state !== 'stopped' && current.state !== 'missing') {
        throw new ConflictError('NODE_RUNNING', `node ${node} is ${current.state}: stop it first (a running node keeps the old contents mounted)`);
      }
      const restored = await ops.rollback(node, name, request.volumes);
      return { node, snapshot: name, restored, opened: null };
    });
  }

  async readFile(node: string, name: string, volume: string, path: string): Promise<{ size: number; stream: ReadStream }> {
    const ops = this.require();
    this.node(node);
    return ops.readFile(node, name, volume, path);
  }

  /** Keeps a set from being deleted (a backup reading it) until the returned function is called. */
  pin(node: string, name: string): () => void {
    const key = `${node}@${name}`;
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.pins.get(key) ?? 1) - 1;
      if (left > 0) this.pins.set(key, left);
      else this.pins.delete(key);
    };
  }

  /** The newest whole set of a node, or null (for the copies). */
  async newest(node: string): Promise<SnapshotSetView | null> {
    return (await this.list(node)).at(-1) ?? null;
  }

  /** For GET /disk: how many whole sets a node has and its newest; null while snapshots are off. */
  async report(node: string): Promise<SnapshotsReport | null> {
    if (!this.ops) return null;
    const records = await this.ops.records.list(node);
    const newest = records.at(-1) ?? null;
    return { count: records.length, newest: newest?.name ?? null, newestAt: newest?.createdAt ?? null };
  }

  // ---- inside ----

  private tick(): void {
    if (!this.ops) return;
    const now = Date.now();
    for (const view of this.deps.nodes.list()) {
      // a node without volumes has nothing to snapshot; one being deleted soon has none
      if (view.state === 'deleting' || !view.spec.volumes?.length || this.queue.busy(view.name)) continue;
      const due = isDue({ name: view.name, snapshotSeconds: nodeDisk(view.spec).snapshotSeconds, lastAt: this.lastAt.get(view.name) ?? null }, now);
      if (!due) continue;
      this.lastAt.set(view.name, now);
      this.work.track(this.queue.run(view.name, () => this.take(view, 'auto'))).catch(() => undefined);
    }
  }

  /** One set, its event, then retention; a failure is an event and in health, and is thrown to a caller. */
  private async take(view: NodeView, kind: SnapshotKind): Promise<SetRecord> {
    const ops = this.require();
    const current = this.deps.nodes.list().find((n) => n.name === view.name) ?? view;
    try {
      const record = await ops.create({ name: current.name, running: current.state === 'running' || current.state === 'frozen', pid: current.pid }, kind);
      this.failures.delete(view.name);
      const { name: snapshot, volumes, frozen, freezeMs, totalMs } = record;
      this.deps.events.publish('disk.snapshot.created', { node: view.name, snapshot, kind, volumes, frozen, freezeMs, totalMs });
      await this.prune(view.name);
      return record;
    } catch (error) {
      const reason = (error as Error).message;
      // a scheduled set failing is the station's problem (health); one asked for is answered to the asker
      if (kind === 'auto') this.failures.set(view.name, `snapshot failed: ${reason}`);
      this.deps.log.warn({ err: error, node: view.name, kind }, 'snapshot set failed');
      this.deps.events.publish('disk.snapshot.failed', { node: view.name, kind, reason });
      throw error;
    }
  }

  private async prune(node: string): Promise<void> {
    const ops = this.require();
    const records = await ops.records.list(node);
    const sets = records.map((r) => ({ name: r.name, at: parseSetName(r.name)!.at.getTime(), kind: r.kind }));
    const pinned = new Set([...this.pins.keys()].filter((k) => k.startsWith(`${node}@`)).map((k) => k.slice(node.length + 1)));
    for (const name of toDelete(sets, Date.now(), this.retention, pinned)) {
      await ops.delete(node, name);
      this.deps.events.publish('disk.snapshot.deleted', { node, snapshot: name, reason: 'retention' });
    }
  }

  private node(name: string): NodeView {
    const view = this.deps.nodes.list().find((n) => n.name === name);
    if (!view) throw new NotFoundError('NODE_NOT_FOUND', `no node ${JSON.stringify(name)}`);
    return view;
  }

  private require(): NodeSnapshots {
    if (!this.ops) throw new UnavailableError('SNAPSHOTS_UNAVAILABLE', `snapshots are off: ${this.offReason}`);
    return this.ops;
  }

  private off(reason: string): void {
    this.offReason = reason;
  }
}
