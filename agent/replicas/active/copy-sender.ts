// The Active side's copies: after every snapshot set each Inactive station of a node pulls the newest
// snapshot of each volume (stream/pull-copy.ts) and gets the spec, under the token of the lease this
// station holds. One copy at a time per node and station; a copy asked for while one runs runs once
// more after it, for what it missed. Each copy's state (in sync, failing, offline) is kept for status.
import { KeyedSerialQueue } from '../../lib/serial-queue.ts';
import type { PeerView } from '../../mesh/peers.ts';
import type { NodeView } from '../../nodes/view.ts';
import type { ReplicasDeps } from '../deps.ts';
import { httpPullTarget } from '../stream/http-target.ts';
import { copyNewest } from '../stream/pull-copy.ts';
import { type ReplicaStatus, retryCopyNow, snapshotTime, waitingCopy } from './replica-status.ts';

interface NodeCopies {
  replicas: Map<string, ReplicaStatus>;
  /** the copy running now, if any */
  copying: Promise<void> | null;
  again: boolean;
}

export class CopySender {
  private readonly deps: ReplicasDeps;
  /** the token of the node's lease while this station holds it, else null */
  private readonly tokenOf: (node: string) => number | null;
  private readonly nodes = new Map<string, NodeCopies>();
  private readonly perCopy = new KeyedSerialQueue();
  /** when each copy (node/station) was last tried */
  private readonly triedAt = new Map<string, number>();

  constructor(deps: ReplicasDeps, tokenOf: (node: string) => number | null) {
    this.deps = deps;
    this.tokenOf = tokenOf;
  }

  /** Each copy's state, as last sent or tried. */
  statuses(node: string): ReplicaStatus[] {
    return [...(this.nodes.get(node)?.replicas.values() ?? [])];
  }

  /** The stations a copy was sent to or tried (a deleted node's copies are told to go). */
  stations(node: string): string[] {
    return [...(this.nodes.get(node)?.replicas.keys() ?? [])];
  }

  /** Copies that missed the newest snapshot (their station was offline, or the copy failed) are tried again when due. */
  retryMissed(): void {
    const peers = this.deps.mesh.peers();
    const now = Date.now();
    for (const [node, n] of this.nodes) {
      if (n.copying) continue;
      const due = [...n.replicas.values()].some((s) =>
        retryCopyNow(s, peers.find((p) => p.name === s.station)?.online ?? false, this.triedAt.get(`${node}/${s.station}`) ?? 0, now),
      );
      if (due) void this.syncNow(node);
    }
  }

  /** The node left this station: what is kept of its copies goes. */
  forget(node: string): void {
    this.nodes.delete(node);
    for (const key of this.triedAt.keys()) if (key.startsWith(`${node}/`)) this.triedAt.delete(key);
  }

  /**
   * Brings every Inactive copy up to this station's newest snapshots; resolves when they have it (or
   * failed: each copy's status says). A copy already running runs once more after, for what it missed.
   */
  syncNow(node: string): Promise<void> {
    const n = this.entry(node);
    if (n.copying) {
      n.again = true;
      return n.copying;
    }
    n.copying = this.copyAll(node, n).finally(() => (n.copying = null));
    return n.copying;
  }

  /** Brings one copy up to this station's newest snapshots now (a planned move's target); its status after. */
  async syncTo(node: string, station: string): Promise<ReplicaStatus | null> {
    const view = this.deps.nodes.list().find((n) => n.name === node);
    const token = this.tokenOf(node);
    if (!view?.spec.replicas || token === null) return null;
    await this.copyTo(view, station, this.deps.mesh.peers(), token);
    return this.entry(node).replicas.get(station) ?? null;
  }

  private entry(node: string): NodeCopies {
    let n = this.nodes.get(node);
    if (!n) {
      n = { replicas: new Map(), copying: null, again: false };
      this.nodes.set(node, n);
    }
    return n;
  }

  private async copyAll(node: string, n: NodeCopies): Promise<void> {
    do {
      n.again = false;
      const view = this.deps.nodes.list().find((v) => v.name === node);
      const token = this.tokenOf(node);
      if (!view?.spec.replicas || !this.deps.nodes.volumeDriver() || token === null) return;
      const peers = this.deps.mesh.peers();
      await Promise.all(view.spec.replicas.stations.map((station) => this.copyTo(view, station, peers, token)));
    } while (n.again);
  }

  /** One copy at a time per node and station: a scheduled copy and a move's never pull the same volume at once. */
  private copyTo(view: NodeView, station: string, peers: PeerView[], token: number): Promise<void> {
    return this.perCopy.run(`${view.name}/${station}`, () => this.copyToNow(view, station, peers, token));
  }

  private async copyToNow(view: NodeView, station: string, peers: PeerView[], token: number): Promise<void> {
    const replicas = this.entry(view.name).replicas;
    this.triedAt.set(`${view.name}/${station}`, Date.now());
    const status = replicas.get(station) ?? waitingCopy(station);
    replicas.set(station, status);
    const peer = peers.find((p) => p.name === station);
    if (!peer?.online) {
      Object.assign(status, { state: 'offline', error: `${station} is offline` });
      return;
    }
    const driver = this.deps.nodes.volumeDriver()!;
    const target = httpPullTarget(peer);
    try {
      status.sending = true;
      await target.sendSpec(view.spec, token);
      let newest: { snapshot: string | null; createdAt: string | null } = { snapshot: null, createdAt: null };
      for (const volume of view.spec.volumes) {
        const ref = { node: view.name, volume: volume.name };
        const result = await copyNewest(driver, ref, token, target);
        status.bytes += result.bytes;
        newest = { snapshot: result.snapshot, createdAt: snapshotTime(result.snapshot) };
        if (result.sent)
          this.deps.events.publish('replicas.copy.sent', {
            node: view.name,
            station,
            volume: volume.name,
            snapshot: result.snapshot ?? '',
            bytes: result.bytes,
            seconds: result.seconds,
            whole: result.parent === null,
          });
      }
      Object.assign(status, { state: 'in-sync', snapshot: newest.snapshot, snapshotAt: newest.createdAt, sentAt: new Date().toISOString(), error: null });
    } catch (error) {
      Object.assign(status, { state: 'failing', error: (error as Error).message });
      this.deps.events.publish('replicas.copy.failed', { node: view.name, station, reason: (error as Error).message });
    } finally {
      status.sending = false;
    }
  }
}
