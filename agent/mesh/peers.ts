// This station's view of its peers: the owner's stations (from the authority's directory), whether
// each answers over the mesh (a ping through the tunnel every few seconds, giving the latency) and
// when Nebula last completed a handshake with it (from Nebula's own log).
import type { Runner } from '../exec.ts';
import type { MeshState } from './mesh-state.ts';
import type { NebulaLogEvent } from './nebula-log.ts';
import { parsePingRtt } from './ping-output.ts';
import { ipv4ToInt } from '../lib/ipv4.ts';

export interface PeerView {
  name: string;
  owner: string;
  address: string;
  lighthouse: boolean;
  online: boolean;
  lastHandshake: string | null;
  lastSeen: string | null;
  latencyMs: number | null;
  /** how the last handshake went: through a relay (its mesh address) or direct (null) */
  via: string | null;
  revoked: boolean;
  /** its node subnet, routed to it over the mesh; null for stations without one */
  nodeSubnet: string | null;
  /** where its station API listens on its mesh address (the member record's) */
  apiPort: number;
}

interface Seen {
  lastSeen?: string;
  latencyMs?: number;
  ok: boolean;
  lastHandshake?: string;
  via?: string | null;
  failingSince?: number;
}

/** a peer that answered within this window is online */
const ONLINE_WINDOW_MS = 30_000;

export class PeerMonitor {
  private readonly run: Runner;
  private readonly seen = new Map<string, Seen>();
  /** the relay Nebula last sent a handshake through, per peer (its completion line names no relay) */
  private readonly relayFor = new Map<string, string>();

  constructor(run: Runner) {
    this.run = run;
  }

  onNebulaEvent(event: NebulaLogEvent): void {
    if (!event.vpnIp) return;
    if (event.kind === 'relay' && event.relay) this.relayFor.set(event.vpnIp, event.relay);
    if (event.kind !== 'handshake') return;
    const s = this.seen.get(event.vpnIp) ?? { ok: false };
    s.lastHandshake = event.at;
    s.via = event.relay ?? (event.udpAddr ? null : (this.relayFor.get(event.vpnIp) ?? null));
    this.seen.set(event.vpnIp, s);
  }

  /** Pings every other live member once, in parallel. */
  async probe(state: MeshState): Promise<void> {
    const targets = state.members.filter((m) => m.address !== state.address && !m.revokedAt);
    await Promise.all(
      targets.map(async (m) => {
        const r = await this.run(['ping', '-c', '1', '-W', '1', '-n', m.address], { allowFailure: true, timeoutMs: 3000 }).catch(() => undefined);
        const rtt = r && r.exitCode === 0 ? parsePingRtt(r.stdout) : null;
        const s = this.seen.get(m.address) ?? { ok: false };
        s.ok = rtt !== null;
        if (rtt === null) s.failingSince ??= Date.now();
        else delete s.failingSince;
        if (rtt !== null) {
          s.lastSeen = new Date().toISOString();
          s.latencyMs = rtt;
        }
        this.seen.set(m.address, s);
      }),
    );
  }

  /** Live members this station has failed to reach, and since when (ms), for stuckPeers(). */
  failing(state: MeshState): Map<string, number> {
    const live = new Set(state.members.filter((m) => !m.revokedAt).map((m) => m.address));
    return new Map([...this.seen].filter(([a, s]) => s.failingSince !== undefined && live.has(a)).map(([a, s]) => [a, s.failingSince!]));
  }

  /** Addresses of live members that answered the last probe, recently. */
  online(state: MeshState, now: Date): string[] {
    return this.view(state, now)
      .filter((p) => p.online)
      .map((p) => p.address)
      .sort();
  }

  view(state: MeshState, now: Date): PeerView[] {
    return state.members
      .filter((m) => m.address !== state.address)
      .map((m) => {
        const s = this.seen.get(m.address);
        const fresh = s?.lastSeen !== undefined && now.getTime() - Date.parse(s.lastSeen) < ONLINE_WINDOW_MS;
        return {
          name: m.name,
          owner: m.owner,
          address: m.address,
          lighthouse: m.lighthouse,
          revoked: m.revokedAt !== undefined,
          online: !m.revokedAt && s?.ok === true && fresh,
          lastHandshake: s?.lastHandshake ?? null,
          lastSeen: s?.lastSeen ?? null,
          latencyMs: s?.latencyMs ?? null,
          via: s?.via ?? null,
          nodeSubnet: m.nodeSubnet ?? null,
          apiPort: m.apiPort,
        };
      });
  }
}

/** how long a peer must fail while the authority reaches it before the tunnel state is called stuck */
export const STUCK_AFTER_MS = 30_000;

/**
 * Peers whose tunnel state is stuck here: we have not reached them for a while although the
 * authority (lighthouse and relay) reaches them now. Nebula 1.6 can wedge a relayed pair when both
 * ends ask the relay at the same moment; restarting one end's Nebula clears it. Only the end with
 * the lower address acts, so the two ends do not restart together and race again. Pure.
 */
export function stuckPeers(failing: Map<string, number>, reachedByAuthority: Set<string>, self: string, now: number): string[] {
  const n = (ip: string): number => ipv4ToInt(ip) ?? 0;
  return [...failing]
    .filter(([address, since]) => now - since >= STUCK_AFTER_MS && reachedByAuthority.has(address) && n(self) < n(address))
    .map(([a]) => a)
    .sort();
}
