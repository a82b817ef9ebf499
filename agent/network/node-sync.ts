// Keeps the Network Node in step with the node service without it calling us: any node.* event
// (created, updated, deleted, state) re-applies the station's nodes shortly after (changes in a
// burst are applied once), and a slow periodic pass catches anything missed (a node that changed
// behind the agent's back). Applying an unchanged set is a no-op.
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { ApplyResult, NodeNetworkInput } from './types.ts';

const DEBOUNCE_MS = 50;
const PERIOD_MS = 15_000;

/** The station's nodes as the network needs them (the node service's list, read on its events). */
export interface NodeInventory {
  /** every node that is not being deleted, with its bridge port; undefined while the node service is off */
  nodeInputs(): NodeNetworkInput[] | undefined;
  /** the node subnet in use (the configured one, or the one the mesh allocated) */
  nodeSubnet(): string;
}

export interface NodeSyncDeps {
  apply(nodes: NodeNetworkInput[]): Promise<ApplyResult>;
  nodes: NodeInventory;
  events: EventBus;
  log: Logger;
}

export class NodeSync {
  private readonly deps: NodeSyncDeps;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private lastError = '';

  constructor(deps: NodeSyncDeps) {
    this.deps = deps;
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribeArea('node', () => this.soon());
    this.timer = setInterval(() => this.soon(), PERIOD_MS);
    this.timer.unref();
    this.soon();
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
    clearTimeout(this.pending);
  }

  private soon(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.syncNodes(), DEBOUNCE_MS);
    this.pending.unref();
  }

  private async syncNodes(): Promise<void> {
    let nodes: NodeNetworkInput[] | undefined;
    try {
      nodes = this.deps.nodes.nodeInputs();
    } catch {
      return; // the node service is not up (yet): nothing to follow
    }
    if (!nodes) return;
    try {
      await this.deps.apply(nodes);
      this.lastError = '';
    } catch (error) {
      const message = (error as Error).message;
      // a bad policy that slipped past the node service keeps the last good table; say so once
      if (message !== this.lastError) this.deps.log.error({ err: message }, 'node policies not applied; the previous rules stay');
      this.lastError = message;
    }
  }
}
