// Automatic failover, on the Inactive side: who holds each node's lease, followed from an etcd watch
// (lease/active-watch.ts). When nobody holds a node's lease (etcd expired it: its Active could not
// renew) and this station holds an Inactive copy whose failover is automatic, it promotes itself if
// the lease store has three voters and its newest snapshot is within maxLagSeconds. The copies'
// stations try in the order the spec lists them, a moment apart; the lease decides if two try at once.
// A node deleted on its Active is never promoted: the lease store's note of the deletion (later than
// every token its copies carry) makes each copy here go instead, also on a station that was away.
import type { ReplicasDeps } from '../deps.ts';
import type { EtcdClient } from '../lease/etcd-client.ts';
import { ActiveWatch, deletedKey, movingKey, nodeOfKey } from '../lease/active-watch.ts';
import type { InactiveCopies } from './inactive-copies.ts';
import { copyLagSeconds } from './promote.ts';

/** What the watch has the replicas room do. */
export interface FailoverActions {
  promote(node: string): Promise<unknown>;
  /** the node was deleted on its Active (`by`), noted at `revision`: drop the copy held here */
  drop(node: string, by: string, revision: number): Promise<unknown>;
}

/** how long each station listed before this one gets to promote first */
const RANK_DELAY_MS = 2000;

export class FailoverWatch {
  private readonly deps: ReplicasDeps;
  private readonly copies: InactiveCopies;
  private readonly actions: FailoverActions;
  private watch: ActiveWatch | null = null;
  private readonly trying = new Set<string>();
  /** who holds each node's lease, as last read or watched (published as replicas.active on change) */
  private readonly holders = new Map<string, string | null>();
  private watchedAt: string | null = null;
  private read = false;
  /** why a node's copy here did not promote itself, for status */
  readonly held = new Map<string, string>();

  constructor(deps: ReplicasDeps, copies: InactiveCopies, actions: FailoverActions) {
    this.deps = deps;
    this.copies = copies;
    this.actions = actions;
  }

  /** Who holds the node's lease, as last seen (null: nobody, or not read yet). */
  holder(node: string): string | null {
    return this.holders.get(node) ?? null;
  }

  /** true once the holders were read from the lease store */
  get synced(): boolean {
    return this.read;
  }

  /**
   * Every tick reads the lease keys from whichever member answers, besides the watch: a watch on a
   * member cut off from the others just stalls (no events, no error), so it is started again, on the
   * station's own member when it has one, whenever it is elsewhere or disagrees with what was read.
   */
  async tick(): Promise<void> {
    const owner = this.deps.mesh.info().owner;
    const client = this.deps.leaseStore.client();
    if (!owner || !client) return;
    const prefix = `/station/replicas/${owner}/`;
    let current: Map<string, string>;
    let deleted: Map<string, { by: string; revision: number }>;
    try {
      const { kvs } = await client.getPrefix(prefix);
      current = new Map(kvs.flatMap((kv) => (nodeOfKey(prefix, kv.key) ? [[nodeOfKey(prefix, kv.key)!, kv.value] as const] : [])));
      deleted = new Map(
        kvs.flatMap((kv) => {
          const node = nodeOfKey(prefix, kv.key, 'deleted');
          return node ? [[node, { by: kv.value, revision: kv.modRevision }] as const] : [];
        }),
      );
    } catch {
      return; // no quorum in reach: nothing may be promoted from here anyway
    }
    this.read = true;
    const disagrees = [...new Set([...current.keys(), ...this.holders.keys()])].some((n) => (this.watch?.holder(n) ?? null) !== (current.get(n) ?? null));
    if (!this.watch || this.watchedAt !== client.endpoint || disagrees) {
      this.stop();
      this.watchedAt = client.endpoint;
      this.watch = new ActiveWatch({ client, prefix, onChange: (node, holder) => this.note(node, holder) });
      this.watch.start();
    }
    for (const node of new Set([...current.keys(), ...this.holders.keys()])) this.note(node, current.get(node) ?? null);
    for (const copy of await this.copies.list()) {
      const note = deleted.get(copy.node);
      if (note && note.revision > copy.token) await this.actions.drop(copy.node, note.by, note.revision);
      else if (!current.get(copy.node)) void this.consider(copy.node);
    }
  }

  stop(): void {
    this.watch?.stop();
    this.watch = null;
  }

  private note(node: string, holder: string | null): void {
    if (this.holders.has(node) && this.holders.get(node) === holder) return;
    this.holders.set(node, holder);
    this.deps.events.publish('replicas.active', { node, station: holder });
    if (holder === null) void this.consider(node);
  }

  /** The node was deleted on its Active after this copy's last token: the copy goes (true), never promoted. */
  private async droppedAsDeleted(client: EtcdClient, copy: { node: string; owner: string; token: number }): Promise<boolean> {
    const note = await client.get(deletedKey(`/station/replicas/${copy.owner}/`, copy.node));
    if (!note || note.modRevision <= copy.token) return false;
    await this.actions.drop(copy.node, note.value, note.modRevision);
    return true;
  }

  private async consider(node: string): Promise<void> {
    if (this.trying.has(node)) return;
    const copy = await this.copies.get(node);
    if (copy?.spec.replicas?.failover !== 'auto') return;
    const voters = this.deps.leaseStore.voters() ?? 0;
    if (voters < 3) return void this.held.set(node, `the lease store has ${voters} voting member(s): failover is manual`);
    const lag = copyLagSeconds(copy, Date.now());
    if (lag === null || lag > copy.spec.replicas.maxLagSeconds)
      return void this.held.set(node, `its newest snapshot is ${lag ?? 'not'} s old, over maxLagSeconds ${copy.spec.replicas.maxLagSeconds}`);
    this.trying.add(node);
    try {
      const rank = Math.max(0, copy.spec.replicas.stations.indexOf(this.deps.mesh.info().name));
      if (rank) await new Promise((resolve) => setTimeout(resolve, rank * RANK_DELAY_MS));
      if (this.holder(node)) return; // a station listed earlier took it
      const client = this.deps.leaseStore.client();
      if (!client) throw new Error('no lease store member answers');
      const moving = await client.get(movingKey(`/station/replicas/${copy.owner}/`, node)).catch(() => null);
      if (moving) return void this.held.set(node, `a planned move to ${moving.value} is under way`);
      if (await this.droppedAsDeleted(client, copy)) return;
      await this.actions.promote(node);
      this.held.delete(node);
    } catch (error) {
      this.held.set(node, (error as Error).message);
      this.deps.log.info({ node, reason: (error as Error).message }, 'replicas: automatic promotion not made');
    } finally {
      this.trying.delete(node);
    }
  }
}
