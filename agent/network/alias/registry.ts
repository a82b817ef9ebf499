// The alias registry: this station's own records plus those learned from other stations over the
// mesh. Whoever feeds it (the network subsystem for local nodes, the exchange or the mesh code for
// peers) calls set*; listeners (the resolver) hear about every change that alters an answer.
import { resolveRecords, sanitizeRemote, type AliasRecord } from './records.ts';

export class AliasRegistry {
  private readonly domain: string;
  private local: AliasRecord[] = [];
  private readonly remote = new Map<string, AliasRecord[]>();
  private readonly listeners: ((records: AliasRecord[]) => void)[] = [];
  private lastAnswer = '';

  constructor(domain: string) {
    this.domain = domain;
  }

  onChange(listener: (records: AliasRecord[]) => void): void {
    this.listeners.push(listener);
  }

  setLocalRecords(records: AliasRecord[]): void {
    this.local = records;
    this.changed();
  }

  /** What a peer station publishes for its own nodes; replaces what we knew from it. */
  setRemoteRecords(station: string, records: unknown): void {
    this.remote.set(station, sanitizeRemote(records, station, this.domain));
    this.changed();
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
