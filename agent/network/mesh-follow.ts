// Follows the mesh without polling it: every mesh.* event (the mesh publishes mesh.peers whenever
// what it knows of its peers changes: who they are, their addresses and node subnets, whether its
// own Nebula is up) makes the network read the mesh's facts once more. The owner names the
// station's aliases; the peers are where names are pulled from; once the mesh is up, its interface,
// this station's mesh address, subnets and who has which address go into the table; once the
// station leaves the mesh, they leave the table. Unchanged facts change nothing.
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { AliasPeer } from './alias/exchange.ts';
import type { MeshFacts } from './mesh-facts.ts';
import type { MeshNetworkFacts } from './types.ts';

/** What the network reads from the mesh when the mesh says something changed. */
export interface MeshView {
  /** undefined (or a throw) while the mesh cannot say */
  meshFacts(): MeshFacts | undefined;
}

export interface MeshFollowDeps {
  mesh: MeshView;
  events: EventBus;
  log: Logger;
  setOwner(owner: string | undefined): void;
  setAliasPeers(peers: AliasPeer[]): void;
  setMesh(facts: MeshNetworkFacts): Promise<void>;
}

export class MeshFollow {
  private readonly deps: MeshFollowDeps;
  private unsubscribe: (() => void) | undefined;
  private lastPeers = '';
  private lastMesh = '';

  constructor(deps: MeshFollowDeps) {
    this.deps = deps;
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribeArea('mesh', () => this.follow());
    this.follow();
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private follow(): void {
    let mesh: MeshFacts | undefined;
    try {
      mesh = this.deps.mesh.meshFacts();
    } catch {
      return;
    }
    if (!mesh) return;
    this.deps.setOwner(mesh.owner ?? undefined);
    const peersKey = JSON.stringify(mesh.peers);
    if (peersKey !== this.lastPeers) {
      this.lastPeers = peersKey;
      this.deps.setAliasPeers(mesh.peers);
    }
    if (!mesh.meshInterface) {
      // Until Nebula is up the table keeps what it had (a restart of Nebula changes nothing here);
      // once the station is in no mesh (it left), nothing of the mesh stays in the table.
      if (mesh.state === 'none' && this.lastMesh) this.setMesh({ meshSubnets: [], owner: mesh.owner ?? undefined });
      return;
    }
    const directory = { nodes: {}, owners: mesh.owners ?? {}, groups: mesh.groups ?? {} };
    const address = mesh.meshAddress ? { meshAddress: mesh.meshAddress } : {};
    this.setMesh({ meshInterface: mesh.meshInterface, ...address, meshSubnets: mesh.meshSubnets ?? [], owner: mesh.owner ?? undefined, directory });
  }

  /** Hands the facts over unless they are the ones handed over last. */
  private setMesh(facts: MeshNetworkFacts): void {
    const factsKey = JSON.stringify(facts);
    if (factsKey === this.lastMesh) return;
    this.lastMesh = factsKey;
    this.deps.setMesh(facts).catch((error: Error) => this.deps.log.error({ err: error.message }, 'applying mesh facts failed'));
  }
}
