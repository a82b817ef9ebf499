// The station's resolver (dnsmasq) on the nodes' gateway: started with every name the station
// answers, fed each change of the alias records, moved when the node subnet (and so the gateway)
// moves. Without dnsmasq the filter still works; the network says it is degraded and why.
import type { Runner } from '../exec.ts';
import type { Logger } from '../log.ts';
import type { AliasRecord } from './alias/records.ts';
import { renderHosts } from './alias/records.ts';
import type { AliasRegistry } from './alias/registry.ts';
import type { DnsmasqResolver } from './alias/dnsmasq.ts';
import { startStationResolver } from './alias/station-resolver.ts';

export interface ResolverDeps {
  run: Runner;
  log: Logger;
  stateDir: string;
  domain: string;
  aliases: AliasRegistry;
  /** the namespace dnsmasq runs in; default: the one the runner runs commands in */
  netns?: string;
  /** also listen on 127.0.0.1 (default: when it is free) */
  loopback?: boolean;
}

export class StationResolver {
  private readonly deps: ResolverDeps;
  private resolver: DnsmasqResolver | undefined;
  private error: string | undefined;
  private following = false;

  constructor(deps: ResolverDeps) {
    this.deps = deps;
  }

  /** Starts dnsmasq on `gateway` (stopping one that runs elsewhere); a failure is kept as the reason. */
  async start(gateway: string): Promise<void> {
    await this.stop();
    const d = this.deps;
    const initialHosts = renderHosts(d.aliases.resolved());
    const started = await startStationResolver({
      run: d.run,
      netns: d.netns,
      stateDir: d.stateDir,
      gateway,
      domain: d.domain,
      loopback: d.loopback,
      initialHosts,
    });
    this.resolver = started.resolver;
    this.error = started.error;
    if (!this.resolver) {
      d.log.error({ err: this.error }, 'the resolver (dnsmasq) did not start; names are not served');
      return;
    }
    if (this.following) return;
    this.following = true;
    d.aliases.onChange((records: AliasRecord[]) => {
      this.resolver?.update(renderHosts(records)).catch((error: Error) => d.log.error({ err: error.message }, 'resolver update failed'));
    });
  }

  async stop(): Promise<void> {
    await this.resolver?.stop();
    this.resolver = undefined;
  }

  get running(): boolean {
    return this.resolver?.running === true;
  }

  /** Why names are not served, or undefined while dnsmasq runs (or was never asked to). */
  problem(): string | undefined {
    if (!this.resolver) return this.error;
    return this.resolver.running ? undefined : (this.resolver.lastExit ?? 'dnsmasq is not running');
  }
}
