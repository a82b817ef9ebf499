// Who holds each replicated node's lease, kept current from an etcd watch: what the Dynamic Alias
// (NODE.OWNER.mesh.internal -> the Active's station) will answer from. It reads every lease key once,
// then watches from the revision it read at, so no change between the two is missed; when the watch
// ends (the member restarted, the stream was cut) it reads and watches again after a pause.
import type { EtcdClient } from './etcd-client.ts';
import type { WatchEvent } from './etcd-gateway.ts';

export interface ActiveWatchOptions {
  client: EtcdClient;
  /** the owner's lease keys: `<prefix><node>/active` */
  prefix: string;
  /** a node's holder changed (null: nobody holds it) */
  onChange: (node: string, holder: string | null) => void;
  /** pause before watching again after the stream ended (default 1 s) */
  retryMs?: number;
}

export const activeKey = (prefix: string, node: string): string => `${prefix}${node}/active`;
/** Where a planned move names its target while the lease changes hands (no automatic promotion meanwhile). */
export const movingKey = (prefix: string, node: string): string => `${prefix}${node}/moving`;

/**
 * Where a node deleted on its Active is written down (no lease: it stays), before its lease goes, so
 * that no copy takes it over; its revision is later than every token the node's copies carry.
 */
export const deletedKey = (prefix: string, node: string): string => `${prefix}${node}/deleted`;

/** The node a key under the prefix is about (its lease key, or `kind`'s), or null for another key. */
export function nodeOfKey(prefix: string, key: string, kind: 'active' | 'deleted' = 'active'): string | null {
  if (!key.startsWith(prefix) || !key.endsWith(`/${kind}`)) return null;
  const node = key.slice(prefix.length, -`/${kind}`.length);
  return node && !node.includes('/') ? node : null;
}

export class ActiveWatch {
  private readonly o: ActiveWatchOptions;
  private readonly holders = new Map<string, string>();
  private abort: AbortController | null = null;
  private running = false;
  private readOnce = false;
  /** the last reason the watch ended, while it waits to watch again */
  lastError: string | null = null;

  constructor(options: ActiveWatchOptions) {
    this.o = options;
  }

  /** true once every key was read and while the watch runs (its holders are current) */
  get synced(): boolean {
    return this.running && this.readOnce && this.lastError === null;
  }

  holder(node: string): string | null {
    return this.holders.get(node) ?? null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.abort = new AbortController();
      try {
        const { kvs, revision } = await this.o.client.getPrefix(this.o.prefix);
        const seen = new Map<string, string>();
        for (const kv of kvs) {
          const node = nodeOfKey(this.o.prefix, kv.key);
          if (node) seen.set(node, kv.value);
        }
        for (const node of new Set([...this.holders.keys(), ...seen.keys()])) this.set(node, seen.get(node) ?? null);
        this.lastError = null;
        this.readOnce = true;
        await this.o.client.watch(this.o.prefix, revision + 1, (events) => this.apply(events), this.abort.signal);
        if (this.running) this.lastError = 'the watch stream ended';
      } catch (error) {
        this.lastError = (error as Error).message;
      }
      if (this.running) await new Promise((resolve) => setTimeout(resolve, this.o.retryMs ?? 1000));
    }
  }

  private apply(events: WatchEvent[]): void {
    for (const e of events) {
      const node = nodeOfKey(this.o.prefix, e.key);
      if (node) this.set(node, e.type === 'put' ? e.value : null);
    }
  }

  private set(node: string, holder: string | null): void {
    if ((this.holders.get(node) ?? null) === holder) return;
    if (holder === null) this.holders.delete(node);
    else this.holders.set(node, holder);
    this.o.onChange(node, holder);
  }
}
