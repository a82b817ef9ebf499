// The lease of one replicated node in etcd: whoever holds it runs the Active copy. The key
// (/station/replicas/<owner>/<node>/active) lives by an etcd lease of `ttlSeconds`; it is created only
// where absent, so one station holds it at a time, and its create revision is the fencing token
// (revisions only grow: a later holder always has a larger token; receivers refuse smaller ones).
//
// Self-fencing: etcd counts a lease's TTL from when its leader took the last keep-alive, which is
// after we sent it. So the holder knows the lease lasts at least until (send time of the last
// keep-alive that succeeded) + TTL; it fences (stops its copy) `marginMs` before that instant unless a
// later keep-alive succeeded. Another station can take the key only after etcd expired the lease, by
// which time the old holder has stopped. One caveat sets the margin: a leader cut off from its quorum
// goes on answering keep-alives until raft's check notices (up to two election timeouts), while the
// others elect a new leader that gives every lease its full TTL again; a margin above one election
// timeout keeps the old holder's fence before the new leader's expiry (tested with a real partition). Clocks are monotonic (performance.now), and only
// durations are compared, never two machines' wall clocks.
import type { EtcdClient } from './etcd-client.ts';

/** The instant (monotonic ms) before which a holder whose last good keep-alive was sent at `sentAt` must have stopped. */
export const fenceAt = (sentAt: number, ttlMs: number, marginMs: number): number => sentAt + ttlMs - marginMs;

export interface NodeLeaseOptions {
  client: EtcdClient;
  key: string;
  /** this station's name: the key's value, so others see who holds it */
  self: string;
  ttlSeconds: number;
  /** how long before the lease could expire the holder stops (what stopping its copy may take) */
  marginMs: number;
  /** called once when the holder must stop its copy (it could not renew in time, or the lease is gone) */
  onFence: (why: string) => void;
  now?: () => number;
}

export type AcquireResult = { held: true; token: number } | { held: false; holder: string | null; token: number | null };

export class NodeLease {
  private readonly o: NodeLeaseOptions;
  private readonly now: () => number;
  private leaseId: string | null = null;
  private token: number | null = null;
  private lastGoodSentAt = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private fenced: string | null = null;
  /** false once stopped or released: no keep-alive is sent after that */
  private renewing = false;

  constructor(options: NodeLeaseOptions) {
    if (options.marginMs >= options.ttlSeconds * 1000) throw new Error('the fencing margin must be shorter than the lease TTL');
    this.o = options;
    this.now = options.now ?? (() => performance.now());
  }

  /** true while this station may run the Active copy */
  get held(): boolean {
    return this.token !== null && this.fenced === null;
  }

  /** the fencing token while held */
  get fencingToken(): number | null {
    return this.held ? this.token : null;
  }

  /** Why the holder stopped (null while it holds, or never held). */
  get fenceReason(): string | null {
    return this.fenced;
  }

  /** Takes the lease where nobody holds it; else says who does. */
  async acquire(): Promise<AcquireResult> {
    if (this.held) return { held: true, token: this.token! };
    // fenced earlier: our old lease may still be alive in etcd (keep-alives that arrived unanswered)
    if (this.leaseId) await this.release().catch(() => undefined);
    const sentAt = this.now();
    const lease = await this.o.client.grant(this.o.ttlSeconds);
    const made = await this.o.client.createIfAbsent(this.o.key, this.o.self, lease.id);
    if (!made.created) {
      await this.o.client.revoke(lease.id).catch(() => undefined); // it expires by itself anyway
      return { held: false, holder: made.holder?.value ?? null, token: made.holder?.createRevision ?? null };
    }
    this.leaseId = lease.id;
    this.token = made.revision;
    this.fenced = null;
    this.renewing = true;
    // a slow grant (a member catching up after a partition) may have used up most of the window
    // counted from its sending: one keep-alive now starts it again, rather than fencing at once
    const renewAt = this.now();
    const ttl = await this.o.client.keepAlive(lease.id).catch(() => null);
    this.renewed(ttl ? renewAt : sentAt);
    this.scheduleRenew();
    return { held: true, token: made.revision };
  }

  /** Gives the lease up (a planned move, or the node deleted): the key goes at once. */
  async release(): Promise<void> {
    const id = this.leaseId;
    this.stopTimers();
    this.token = null;
    this.leaseId = null;
    if (id) await this.o.client.revoke(id);
  }

  /** Stops renewing without giving the lease up (the agent stops; the lease runs out by itself). */
  stop(): void {
    this.stopTimers();
  }

  private renewed(sentAt: number): void {
    this.lastGoodSentAt = sentAt;
    clearTimeout(this.fenceTimer);
    const wait = fenceAt(sentAt, this.o.ttlSeconds * 1000, this.o.marginMs) - this.now();
    this.fenceTimer = setTimeout(() => this.fence(`the lease could not be renewed for ${Math.round(this.now() - this.lastGoodSentAt)} ms`), Math.max(0, wait));
  }

  /** The lease `id` is still the one this holder renews: not stopped, released, replaced or fenced. */
  private ours(id: string | null): id is string {
    return id !== null && this.leaseId === id && this.renewing && !this.fenced;
  }

  private scheduleRenew(): void {
    // three tries before the fence instant, so one lost keep-alive does not fence
    const every = Math.max(100, Math.floor((this.o.ttlSeconds * 1000 - this.o.marginMs) / 3));
    const id = this.leaseId;
    this.renewTimer = setTimeout(() => void this.renewOnce(id).finally(() => this.ours(id) && this.scheduleRenew()), every);
  }

  private async renewOnce(id: string | null): Promise<void> {
    if (!this.ours(id)) return;
    const sentAt = this.now();
    try {
      const ttl = await this.o.client.keepAlive(id);
      if (!this.ours(id)) return; // stopped or released meanwhile
      if (ttl === null) return this.fence('the lease expired in etcd');
      this.renewed(sentAt);
    } catch {
      // unanswered: the fence timer decides, at its instant
    }
  }

  private fence(why: string): void {
    if (this.fenced || this.token === null) return;
    this.fenced = why;
    this.stopTimers();
    this.o.onFence(why);
  }

  private stopTimers(): void {
    this.renewing = false;
    clearTimeout(this.renewTimer);
    clearTimeout(this.fenceTimer);
  }
}
