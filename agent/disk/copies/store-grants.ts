// One grant per peer store. A store keeps one password per calling station and every grant
// replaces it at once (docs/disk-store.md), so this station asks once per store per run and writes
// the new password into every copy it keeps there: copies of different nodes on one store never
// hold a stale password. Runs are serialized by the keeper, so no run's grant cuts another's off.
// The new password is saved at once: the store forgot the old one, so a run killed before its end
// must not leave the old one behind. A 401 (the store suspended us, or a restore's readFrom grant
// replaced the password) asks again within the run (node-copies.ts).
import type { EventBus } from '../../events.ts';
import type { CopyMesh } from './copy-deps.ts';
import type { CopiesFile, CopyRecord } from './copies-state.ts';
import type { PeerAddress, PeerGrant, StoreClient } from './peer-client.ts';

export interface StoreGrantsDeps {
  store: StoreClient;
  mesh: CopyMesh;
  events: EventBus;
  state: () => CopiesFile;
  /** writes the state to disk */
  save: () => Promise<void>;
}

export class StoreGrants {
  private readonly deps: StoreGrantsDeps;
  /** what each store said it can still take, at its last grant */
  readonly freeBytes = new Map<string, number>();

  constructor(deps: StoreGrantsDeps) {
    this.deps = deps;
  }

  address(station: string): PeerAddress | null {
    const peer = this.deps.mesh.peers().find((p) => p.name === station);
    return peer ? { name: peer.name, address: peer.address, apiPort: peer.apiPort } : null;
  }

  /** A new grant from the station's store, written into every copy kept there. */
  async renew(station: string): Promise<PeerGrant> {
    const address = this.address(station);
    if (!address) throw new Error(`${station} is not a station of this mesh`);
    const grant = await this.deps.store.grant(address);
    this.freeBytes.set(station, grant.freeBytes);
    for (const copies of Object.values(this.deps.state().nodes)) {
      for (const c of copies) if (c.station === station) Object.assign(c, { repositoryBase: grant.repositoryBase, user: grant.user, password: grant.password });
    }
    await this.deps.save();
    return grant;
  }

  /** Renews the grant of every online store holding one of these copies (except those in `done`). */
  async renewAll(node: string, copies: CopyRecord[], done: ReadonlySet<string>): Promise<void> {
    const online = new Set(
      this.deps.mesh
        .peers()
        .filter((p) => p.online && !p.revoked)
        .map((p) => p.name),
    );
    for (const station of new Set(copies.filter((c) => !c.damaged).map((c) => c.station))) {
      if (done.has(station) || !online.has(station)) continue;
      try {
        await this.renew(station);
      } catch (error) {
        const reason = `grant: ${(error as Error).message}`;
        for (const c of copies) if (c.station === station) Object.assign(c, { lastError: reason, lastErrorAt: new Date().toISOString() });
        const code = (error as { code?: string }).code ?? 'COPY_GRANT_FAILED';
        this.deps.events.publish('disk.copy.failed', { node, station, code, reason });
      }
    }
  }
}
