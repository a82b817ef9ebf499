// Learns other stations' alias records by pulling each peer's own records over HTTP
// (GET /api/v1/aliases?scope=local on the peer's station-to-station address) every second or so,
// so a moved node or a newly Active replica is answered everywhere within a few seconds. The mesh
// code tells us who the peers are (setPeers); until then the exchange is idle. A peer is not
// trusted with other stations' names: the registry keeps only what it may publish, and its answer
// is read up to a size cap (a peer must not be able to fill our memory).
import type { Logger } from '../../log.ts';
import type { AliasRegistry } from './registry.ts';
import type { RefusedRecord } from './records.ts';

export interface AliasPeer {
  station: string;
  /** base URL of the peer's API, e.g. http://100.64.0.2:8088 */
  url: string;
  /** the owner of the peer's certificate: the only owner whose aliases it may publish */
  owner?: string;
}

/** The largest answer read from a peer: MAX_RECORDS_PER_PEER records fit with room to spare. */
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

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
  /** pulls under way, by peer: a slow or gone peer must not hold back the others, nor pile up */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, string>();
  /** what was last said about a peer's refused records, so a peer that keeps sending them is named once */
  private readonly refusals = new Map<string, string>();

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
    for (const station of this.refusals.keys()) if (!names.has(station)) this.refusals.delete(station);
    void this.pullOnce();
  }

  peerStatus(): { station: string; url: string; error?: string }[] {
    return this.peers.map((p) => ({ ...p, ...(this.failures.has(p.station) ? { error: this.failures.get(p.station) } : {}) }));
  }

  /** Pulls every peer once, in parallel (joining a pull already under way); a peer that does not answer keeps its last records. */
  async pullOnce(): Promise<void> {
    await Promise.all(
      this.peers.map((peer) => {
        let pull = this.inFlight.get(peer.station);
        if (!pull) {
          pull = this.pull(peer).finally(() => this.inFlight.delete(peer.station));
          this.inFlight.set(peer.station, pull);
        }
        return pull;
      }),
    );
  }

  private async pull(peer: AliasPeer): Promise<void> {
    const doFetch = this.deps.fetch ?? fetch;
    try {
      const response = await doFetch(`${peer.url}/api/v1/aliases?scope=local`, { signal: AbortSignal.timeout(2000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await readJsonCapped(response, MAX_ANSWER_BYTES)) as { station?: string; records?: unknown } | null;
      // a peer still listed (not forgotten while we waited) gets its records replaced
      const current = this.peers.find((p) => p.station === peer.station);
      if (current) this.noteRefused(peer.station, this.deps.registry.setRemoteRecords(peer.station, body?.records, current.owner));
      if (this.failures.delete(peer.station)) this.deps.log.info({ peer: peer.station }, 'alias peer reachable again');
    } catch (error) {
      if (!this.failures.has(peer.station)) this.deps.log.warn({ peer: peer.station, err: (error as Error).message }, 'alias pull failed');
      this.failures.set(peer.station, (error as Error).message);
    }
  }

  private noteRefused(station: string, refused: RefusedRecord[]): void {
    const key = JSON.stringify(refused);
    if (key === (this.refusals.get(station) ?? '[]')) return;
    this.refusals.set(station, key);
    if (refused.length) this.deps.log.warn({ peer: station, refused: refused.length, examples: refused.slice(0, 3) }, 'alias records refused from a peer');
  }
}

/** The body as JSON, refusing (and no longer reading) one larger than `maxBytes`. */
async function readJsonCapped(response: Response, maxBytes: number): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`answer larger than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
