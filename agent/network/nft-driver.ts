// Runs nft for the Network Node: applies a compiled ruleset in one transaction (`nft -f -`),
// reads our table's counters, and makes bridged node-to-node traffic visible to the inet hooks
// (the bridge's own nf_call_iptables switch, so no machine-wide sysctl is changed).
import type { Runner } from '../exec.ts';
import type { CounterValue } from './types.ts';
import { parseNftCounters } from './counters.ts';
import { TABLE } from './compile-nft.ts';

export interface NftCapability {
  available: boolean;
  reason: string;
}

export class NftDriver {
  private readonly run: Runner;
  constructor(run: Runner) {
    this.run = run;
  }

  async capability(): Promise<NftCapability> {
    try {
      await this.run(['nft', '--version'], { timeoutMs: 5000 });
    } catch (error) {
      return { available: false, reason: `nft is not installed (${(error as Error).message})` };
    }
    const listed = await this.run(['nft', 'list', 'tables'], { timeoutMs: 5000, allowFailure: true }).catch((e: Error) => ({
      exitCode: 1,
      stderr: e.message,
    }));
    if (listed.exitCode !== 0) return { available: false, reason: `nftables does not work here: ${listed.stderr.trim()}` };
    return { available: true, reason: 'nft works' };
  }

  /** Replaces table inet station atomically; a rejected ruleset leaves the old one in place. */
  async apply(text: string): Promise<void> {
    await this.run(['nft', '-f', '-'], { input: text, timeoutMs: 10_000 });
  }

  /** Our table's counters by name; empty when the table does not exist yet. */
  async readCounters(): Promise<Record<string, CounterValue>> {
    const result = await this.run(['nft', '-j', 'list', 'counters', 'table', 'inet', TABLE], { timeoutMs: 10_000, allowFailure: true });
    if (result.exitCode !== 0) return {};
    return parseNftCounters(result.stdout, TABLE);
  }

  /** Removes only our table (used when the feature is switched off, never on agent stop). */
  async removeTable(): Promise<void> {
    await this.run(['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true, timeoutMs: 5000 });
    await this.run(['nft', 'delete', 'table', 'bridge', TABLE], { allowFailure: true, timeoutMs: 5000 });
  }

  /** Bridged packets between nodes pass the inet forward hook only with this bridge option on. */
  async ensureBridgeFiltering(bridge: string): Promise<boolean> {
    const shown = await this.run(['ip', '-j', '-d', 'link', 'show', 'dev', bridge], { allowFailure: true, timeoutMs: 5000 });
    if (shown.exitCode !== 0) return false;
    if (bridgeFiltersCalled(shown.stdout)) return true;
    await this.run(['ip', 'link', 'set', 'dev', bridge, 'type', 'bridge', 'nf_call_iptables', '1', 'nf_call_ip6tables', '1'], {
      timeoutMs: 5000,
    });
    return true;
  }
}

/** Pure: reads nf_call_iptables from `ip -j -d link show dev BRIDGE`. */
export function bridgeFiltersCalled(json: string): boolean {
  const links = JSON.parse(json) as {
    linkinfo?: { info_kind?: string; info_data?: { nf_call_iptables?: number; nf_call_ip6tables?: number } };
  }[];
  const data = links[0]?.linkinfo?.info_data;
  return data?.nf_call_iptables === 1 && data?.nf_call_ip6tables === 1;
}
