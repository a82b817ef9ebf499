// The alias registry: this station's own records plus those learned from other stations over the
// mesh. Whoever feeds it (the network subsystem for local nodes, the exchange or the mesh code for
// peers) calls set*; listeners (the resolver) hear about every change that alters an answer.
import { resolveRecords, sanitizeRemote, type AliasRecord, type RefusedRecord } from './records.ts';

export interface AliasRegistryOptions {
  /** this station: a "peer" of the same name is refused whole (our names are ours to publish) */
  station?: string;
  /** the clock peers' claims are bounded by (tests move it) */
  now?: () => number;
}

export class AliasRegistry {
  private readonly domain: string;
  private readonly options: AliasRegistryOptions;
  private local: AliasRecord[] = [];
  private readonly remote = new Map<string, AliasRecord[]>();
  private readonly listeners: ((records: AliasRecord[]) => void)[] = [];
  private lastAnswer = '';

  constructor(domain: string, options: AliasRegistryOptions = {}) {
    this.domain = domain;
    this.options = options;
  }

  onChange(listener: (records: AliasRecord[]) => void): void {
    this.listeners.push(listener);
  }

  setLocalRecords(records: AliasRecord[]): void {
    this.local = records;
    this.changed();
  }

  /**
   * What a peer station publishes for its own nodes; replaces what we knew from it. Only what the
   * peer may publish is kept (its own node names, its owner's aliases: see sanitizeRemote); the
   * rest is returned so the caller can say so.
   */
  setRemoteRecords(station: string, records: unknown, owner?: string): RefusedRecord[] {
    if (this.options.station !== undefined && station.toLowerCase() === this.options.station.toLowerCase()) {
      return [{ name: '*', reason: "a peer with this station's own name" }];
    }
    const now = this.options.now?.() ?? Date.now();
    const sane = sanitizeRemote(records, owner === undefined ? { station } : { station, owner }, this.domain, now, this.remote.get(station) ?? []);
    this.remote.set(station, sane.records);
    this.changed();
    return sane.refused;
  }

  forgetStation(station: string): void {
    if (this.remote.delete(station)) this.changed();
  }

  remoteStations(): string[] {
    return [...this.remote.keys()].sort();
  }

  localRecords(): AliasRecord[] {
    return this.local;
  }

  /** One answer per name, as the resolver serves it. */
  resolved(): AliasRecord[] {
    return resolveRecords([...this.local, ...[...this.remote.values()].flat()]);
  }

  private changed(): void {
    const answer = this.resolved();
    const key = JSON.stringify(answer.map((r) => [r.name, r.address]));
    if (key === this.lastAnswer) return;
    this.lastAnswer = key;
    for (const listener of this.listeners) listener(answer);
  }
}
