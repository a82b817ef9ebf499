// Keeps the Network Node in step with the node service and the mesh without either calling us:
// any node.* event (created, updated, deleted, state) re-applies the station's nodes shortly after
// (changes in a burst are applied once), a slow periodic pass catches anything missed, and the
// mesh's owner and peer list are followed for Dynamic Alias. Applying an unchanged set is a no-op.
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { MeshFacts } from './mesh-facts.ts';
import type { NetworkSubsystem, NodeNetworkInput } from './network-subsystem.ts';

const DEBOUNCE_MS = 50;
const PERIOD_MS = 15_000;
const MESH_PERIOD_MS = 3_000;

export interface NodeSyncDeps {
  network: NetworkSubsystem;
  events: EventBus;
  log: Logger;
  nodeSource?: () => NodeNetworkInput[] | undefined;
  meshSource?: () => MeshFacts | undefined;
}

export class NodeSync {
  private readonly deps: NodeSyncDeps;
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private pending: NodeJS.Timeout | undefined;
  private lastError = '';
  private lastPeers = '';
  private lastMesh = '';

  constructor(deps: NodeSyncDeps) {
    this.deps = deps;
  }

  start(): void {
    if (this.deps.nodeSource) {
      this.unsubscribe = this.deps.events.subscribe((event) => { if (event.type.startsWith('node.')) this.soon(); });
      this.timers.push(setInterval(() => this.soon(), PERIOD_MS));
      this.soon();
    }
    if (this.deps.meshSource) {
      this.timers.push(setInterval(() => this.followMesh(), MESH_PERIOD_MS));
      this.followMesh();
    }
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.pending);
    this.timers = [];
  }

  private soon(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.syncNodes(), DEBOUNCE_MS);
    this.pending.unref();
  }

  private async syncNodes(): Promise<void> {
    let nodes: NodeNetworkInput[] | undefined;
    try {
      nodes = this.deps.nodeSource!();
    } catch {
      return; // the node service is not up (yet): nothing to follow
    }
    if (!nodes) return;
    try {
      await this.deps.network.apply(nodes);
      this.lastError = '';
    } catch (error) {
      const message = (error as Error).message;
      // a bad policy that slipped past the node service keeps the last good table; say so once
      if (message !== this.lastError) this.deps.log.error({ err: message }, 'node policies not applied; the previous rules stay');
      this.lastError = message;
    }
  }

  private followMesh(): void {
    let mesh: ReturnType<NonNullable<NodeSyncDeps['meshSource']>>;
    try {
      mesh = this.deps.meshSource!();
    } catch {
      return;
    }
    if (!mesh) return;
    this.deps.network.setOwner(mesh.owner ?? undefined);
    const key = JSON.stringify(mesh.peers);
    if (key !== this.lastPeers) {
      this.lastPeers = key;
      this.deps.network.setAliasPeers(mesh.peers);
    }
    if (!mesh.meshInterface) return;
    const facts = { meshInterface: mesh.meshInterface, meshSubnets: mesh.meshSubnets ?? [], owner: mesh.owner ?? undefined, directory: { nodes: {}, owners: mesh.owners ?? {}, groups: mesh.groups ?? {} } };
    const factsKey = JSON.stringify(facts);
    if (factsKey === this.lastMesh) return;
    this.lastMesh = factsKey;
    this.deps.network.setMesh(facts).catch((error: Error) => this.deps.log.error({ err: error.message }, 'applying mesh facts failed'));
  }
}
