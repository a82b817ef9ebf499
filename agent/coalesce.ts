// One run of an expensive read shared by everyone asking for the same thing at about the same
// time. Reading a node's state scans /proc (and may run lxc-info), then its cgroup files; open
// reads must not let a LAN neighbour make the agent do that a thousand times a second. Callers
// within `ttlMs` of the last answer get that answer; concurrent callers share the run in flight.
// Failures are shared only by those already waiting, never kept.

export interface CoalescerOptions {
  /** how long an answer is handed out again */
  ttlMs: number;
  /** keys kept at most; the oldest answers go first */
  maxKeys?: number;
  now?: () => number;
}

interface Entry<V> {
  promise: Promise<V>;
  settledAt: number | undefined;
}

export class Coalescer<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: CoalescerOptions) {
    this.ttlMs = options.ttlMs;
    this.maxKeys = options.maxKeys ?? 1024;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The answer for `key`: the one in flight, one younger than ttlMs, or a new run of `load`. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const current = this.entries.get(key);
    if (current && (current.settledAt === undefined || this.now() - current.settledAt < this.ttlMs)) return current.promise;
    if (current) this.entries.delete(key);
    const entry: Entry<V> = { promise: load(), settledAt: undefined };
    entry.promise.then(
      () => {
        if (this.entries.get(key) === entry) entry.settledAt = this.now();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    return entry.promise;
  }

  /** Drops the answer for `key` (something changed): the next caller reads again. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
