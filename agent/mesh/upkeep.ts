// The mesh's own upkeep, on its own clock (nothing here polls another room): a member fetches its
// authority's directory (members, blocklist, who the authority reaches) every meshSyncSeconds over
// the mesh and learns there that it was revoked; every station pings its peers every few seconds,
// and a member whose tunnels are stuck to peers the authority reaches restarts Nebula (at most once
// per HEAL_EVERY_MS) to reset them.
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { StateDocument } from '../store/document.ts';
import { checkDirectory } from './identity.ts';
import { saveOwnerDiskKey } from '../disk/owner-key.ts';
import type { MeshState } from './mesh-state.ts';
import type { NebulaProcess } from './nebula-process.ts';
import { stuckPeers, type PeerMonitor } from './peers.ts';
import { fetchDirectory } from './station-client.ts';

/** at most one stuck-tunnel reset per this long */
const HEAL_EVERY_MS = 120_000;
const PROBE_EVERY_MS = 5000;
/** a first look at the peers this soon after Nebula (re)started, rather than at the next tick */
const PROBE_AFTER_RESTART_MS = 1500;

export interface UpkeepDeps {
  doc: StateDocument<MeshState>;
  monitor: PeerMonitor;
  nebula: NebulaProcess;
  events: EventBus;
  log: Logger;
  syncSeconds: number;
  /** where the owner's disk key from the directory is kept */
  stateDir: string;
  /** bring Nebula in line with the state (the members or the blocklist changed) */
  apply(): Promise<void>;
  /** the state changed in a way followers may care about (mesh.peers) */
  changed(): void;
}

export class MeshUpkeep {
  private readonly deps: UpkeepDeps;
  private timers: NodeJS.Timeout[] = [];
  /** what the authority reached at the last directory fetch (for stuck-tunnel detection) */
  private authorityOnline = new Set<string>();
  private lastHealAt = 0;
  /** why the last directory fetch failed (health), undefined when it worked */
  syncError: string | undefined;

  constructor(deps: UpkeepDeps) {
    this.deps = deps;
  }

  start(): void {
    this.timers.push(
      setInterval(() => void this.sync(), this.deps.syncSeconds * 1000),
      setInterval(() => void this.probe(), PROBE_EVERY_MS),
    );
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Nebula was (re)started: look at the peers shortly. */
  probeSoon(): void {
    setTimeout(() => void this.probe(), PROBE_AFTER_RESTART_MS).unref();
  }

  private async sync(): Promise<void> {
    const { doc, events } = this.deps;
    const s = doc.get();
    if (s.role !== 'member' || !s.authority || s.revokedAt) return;
    try {
      const result = await fetchDirectory(s.authority);
      if (result === 'revoked') {
        await doc.update((d) => {
          d.revokedAt = new Date().toISOString();
        });
        events.publish('mesh.revoked', {});
        this.deps.changed();
        return;
      }
      const body = result.directory;
      checkDirectory(s, body);
      const same = JSON.stringify(body.members) === JSON.stringify(s.members) && JSON.stringify(body.blocklist) === JSON.stringify(s.blocklist);
      await doc.update((d) => {
        d.members = body.members;
        d.blocklist = body.blocklist;
        d.syncedAt = new Date().toISOString();
      });
      // The owner's disk key, from the authority over the mesh (an older authority sends none).
      if (body.diskKey !== undefined) await saveOwnerDiskKey(this.deps.stateDir, body.diskKey);
      this.authorityOnline = new Set([...(body.online ?? []), s.authority.address]);
      this.syncError = undefined;
      if (!same) await this.deps.apply();
    } catch (error) {
      this.syncError = `cannot reach the authority ${s.authority.name} over the mesh (${(error as Error).message})`;
    }
  }

  private async probe(): Promise<void> {
    const { doc, monitor, nebula, events, log } = this.deps;
    const s = doc.get();
    if (s.role === 'none' || !nebula.running) return;
    await monitor.probe(s).catch(() => undefined);
    const stuck = s.role === 'member' ? stuckPeers(monitor.failing(s), this.authorityOnline, s.address, Date.now()) : [];
    if (stuck.length && Date.now() - this.lastHealAt > HEAL_EVERY_MS) {
      this.lastHealAt = Date.now();
      log.warn({ peers: stuck }, 'peers answer the authority but not this station: restarting Nebula to reset its tunnels');
      events.publish('mesh.tunnels.reset', { peers: stuck });
      await nebula.restart();
    }
  }
}
