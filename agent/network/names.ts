// The Dynamic Alias side of the network: this station's own names (NODE.STATION and each node's
// aliases under its owner), the names pulled from the peers, and what they say about where other
// stations' nodes run (policies may name those nodes; the table follows them).
import type { Logger } from '../log.ts';
import { AliasExchange, type AliasPeer } from './alias/exchange.ts';
import { localRecords, type AliasRecord } from './alias/records.ts';
import { AliasRegistry } from './alias/registry.ts';
import { remoteNodeDirectory } from './mesh-facts.ts';
import type { NodeNetwork } from './types.ts';

export interface NamesDeps {
  station: string;
  domain: string;
  log: Logger;
  pullMs?: number;
}

export interface AliasListing {
  station: string;
  domain: string;
  resolver: string | null;
  records: (AliasRecord & { local: boolean })[];
}

export class StationNames {
  readonly registry: AliasRegistry;
  private readonly exchange: AliasExchange;
  private readonly deps: NamesDeps;

  constructor(deps: NamesDeps) {
    this.deps = deps;
    this.registry = new AliasRegistry(deps.domain, { station: deps.station });
    this.exchange = new AliasExchange({ registry: this.registry, log: deps.log, intervalMs: deps.pullMs });
  }

  start(): void {
    this.exchange.start();
  }

  stop(): void {
    this.exchange.stop();
  }

  /** Publishes this station's nodes under `owner` (the station's name until it is in a mesh). */
  setLocal(nodes: NodeNetwork[], owner: string | undefined): void {
    const { station, domain } = this.deps;
    const entries = nodes.map((n) => ({ name: n.name, address: n.address, aliases: n.policy.aliases }));
    this.registry.setLocalRecords(localRecords(entries, station, owner || station, domain, this.registry.localRecords(), Date.now()));
  }

  /** Addresses of other stations' nodes (NAME.STATION, and NAME where only one station has it). */
  remoteNodes(): Record<string, string[]> {
    return remoteNodeDirectory(this.registry.resolved(), this.deps.station);
  }

  /** Calls `listener` when where other stations' nodes run changes (not on every record change). */
  onRemoteNodesChange(listener: () => void): void {
    let last = '';
    this.registry.onChange(() => {
      const key = JSON.stringify(this.remoteNodes());
      if (key === last) return;
      last = key;
      listener();
    });
  }

  /** Stations whose records we pull (their station-to-station API base URLs). */
  setPeers(peers: AliasPeer[]): void {
    this.exchange.setPeers(peers);
  }

  /** Every name this station answers (`local`: only its own records, what peers pull). */
  listing(scope: 'all' | 'local', resolver: string | null): AliasListing {
    const records = scope === 'local' ? this.registry.localRecords() : this.registry.resolved();
    const { station, domain } = this.deps;
    return { station, domain, resolver, records: records.map((r) => ({ ...r, local: r.station === station })) };
  }
}
