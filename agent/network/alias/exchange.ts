// Learns other stations' alias records by pulling each peer's own records over HTTP
// (GET /api/v1/aliases?scope=local on the peer's station-to-station address) every second or so,
// so a moved node or a newly Active replica is answered everywhere within a few seconds. The mesh
// code tells us who the peers are (setPeers); until then the exchange is idle.
import type { Logger } from '../../log.ts';
import type { AliasRegistry } from './registry.ts';

export interface AliasPeer { station: string; /** base URL of the peer's API, e.g. http://100.64.0.2:8088 */ url: string }

export interface ExchangeDeps {
  registry: AliasRegistry;
  log: Logger;
  intervalMs?: number;
  fetch?: typeof fetch;
}

export class AliasExchange {
  private readonly deps: ExchangeDeps;
  private peers: AliasPeer[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** peers with a pull under way: a slow or gone peer must not hold back the others */
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, string>();

  constructor(deps: ExchangeDeps) {
    this.deps = deps;
  }

  start(): void {
    this.timer = setInterval(() => void this.pullOnce(), this.deps.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Replaces the peer list; records of stations no longer listed are forgotten. */
  setPeers(peers: AliasPeer[]): void {
    this.peers = [...peers];
    const names = new Set(peers.map((p) => p.station));
    for (const station of this.deps.registry.remoteStations()) if (!names.has(station)) this.deps.registry.forgetStation(station);
    void this.pullOnce();
  }

  peerStatus(): { station: string; url: string; error?: string }[] {
    return this.peers.map((p) => ({ ...p, ...(this.failures.has(p.station) ? { error: this.failures.get(p.station) } : {}) }));
  }

  /** Pulls every peer once, in parallel; a peer that does not answer keeps its last records. */
  async pullOnce(): Promise<void> {
    const doFetch = this.deps.fetch ?? fetch;
    await Promise.all(this.peers.filter((p) => !this.inFlight.has(p.station)).map(async (peer) => {
      this.inFlight.add(peer.station);
      try {
        const response = await doFetch(`${peer.url}/api/v1/aliases?scope=local`, { signal: AbortSignal.timeout(2000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = await response.json() as { station?: string; records?: unknown };
        // a peer still listed (not forgotten while we waited) gets its records replaced
        if (this.peers.some((p) => p.station === peer.station)) this.deps.registry.setRemoteRecords(peer.station, body.records);
        if (this.failures.delete(peer.station)) this.deps.log.info({ peer: peer.station }, 'alias peer reachable again');
      } catch (error) {
        if (!this.failures.has(peer.station)) this.deps.log.warn({ peer: peer.station, err: (error as Error).message }, 'alias pull failed');
        this.failures.set(peer.station, (error as Error).message);
      } finally {
        this.inFlight.delete(peer.station);
      }
    }));
  }
}
