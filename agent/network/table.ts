// The table `inet station` for this station's nodes: their policies compiled into one ruleset,
// replaced atomically (one `nft -f`) only when its text changes, with every counter that keeps its
// meaning carried over, so totals do not reset on each change. Also reads the counters back.
import type { Logger } from '../log.ts';
import { compileRuleset } from './compile-nft.ts';
import { nodeCounters, type NodeCounters } from './counters.ts';
import type { NftDriver } from './nft-driver.ts';
import type { CounterInfo, CounterValue, NodeNetwork, PeerDirectory, StationNetworkFacts } from './types.ts';

/** how long one read of the counters serves (a list of nodes asks for each) */
const COUNTERS_FRESH_MS = 1000;
/** the node engine may re-make the bridge: filtering of bridged traffic is checked this often */
const BRIDGE_CHECK_MS = 10_000;

export interface TableInput {
  facts: StationNetworkFacts;
  nodes: NodeNetwork[];
  directory: PeerDirectory;
}

export class NodeTable {
  private readonly nft: NftDriver;
  private readonly log: Logger;
  private index: CounterInfo[] = [];
  private names = new Set<string>();
  private lastText = '';
  private bridgeCheckedAt = 0;
  private counterCache: { at: number; values: Record<string, CounterValue> } | undefined;

  constructor(nft: NftDriver, log: Logger) {
    this.nft = nft;
    this.log = log;
  }

  get counters(): number {
    return this.index.length;
  }

  /** Makes the table say what `input` says; returns whether it changed and how many counters it has. */
  async apply(input: TableInput): Promise<{ changed: boolean; counters: number }> {
    await this.checkBridge(input.facts.bridge);
    const plain = compileRuleset(input);
    if (plain.text === this.lastText) {
      this.names = new Set(input.nodes.map((n) => n.name));
      return { changed: false, counters: plain.counters.length };
    }
    const compiled = compileRuleset({ ...input, counterSeed: await this.counterSeed(plain.counters) });
    await this.nft.apply(compiled.text);
    this.index = compiled.counters;
    this.names = new Set(input.nodes.map((n) => n.name));
    this.lastText = plain.text;
    this.counterCache = undefined;
    return { changed: true, counters: compiled.counters.length };
  }

  /** Allowed and dropped packets/bytes of one node; undefined for a node the table does not know. */
  async countersFor(name: string): Promise<NodeCounters | undefined> {
    if (!this.names.has(name)) return undefined;
    if (!this.counterCache || Date.now() - this.counterCache.at > COUNTERS_FRESH_MS) {
      this.counterCache = { at: Date.now(), values: await this.nft.readCounters() };
    }
    return nodeCounters(name, this.index, this.counterCache.values);
  }

  private async checkBridge(bridge: string): Promise<void> {
    if (Date.now() - this.bridgeCheckedAt <= BRIDGE_CHECK_MS) return;
    const on = await this.nft.ensureBridgeFiltering(bridge).catch((error: Error) => {
      this.log.warn({ err: error.message }, 'could not switch on filtering of bridged traffic');
      return false;
    });
    this.bridgeCheckedAt = on ? Date.now() : 0;
  }

  /** Counter values to start from: the current ones of counters that keep their meaning. */
  private async counterSeed(next: CounterInfo[]): Promise<Record<string, CounterValue>> {
    if (!this.index.length) return {};
    const values = await this.nft.readCounters();
    const before = new Map(this.index.map((c) => [c.name, c.rule]));
    const seed: Record<string, CounterValue> = {};
    for (const c of next) if (before.get(c.name) === c.rule && values[c.name]) seed[c.name] = values[c.name]!;
    return seed;
  }
}
