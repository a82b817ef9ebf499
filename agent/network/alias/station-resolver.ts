// Starts the station's resolver where the agent works: in the namespace its runner runs nft and ip
// in (tests wrap the runner to a namespace; `ip netns identify` names it, empty means our own),
// bound to the gateway and, when free, loopback (another resolver often holds 127.0.0.1:53 on a
// host; the gateway alone is enough for the nodes), forwarding other names to the host's servers.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../../exec.ts';
import { DnsmasqResolver, upstreamsFromResolvConf } from './dnsmasq.ts';

export interface StationResolverOptions {
  run: Runner;
  /** the namespace to start dnsmasq in; default: the runner's */
  netns?: string;
  stateDir: string;
  gateway: string;
  domain: string;
  loopback?: boolean;
  initialHosts: string;
}

export async function startStationResolver(o: StationResolverOptions): Promise<{ resolver?: DnsmasqResolver; error?: string }> {
  const upstreams = upstreamsFromResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
  const netns = o.netns ?? ((await o.run(['ip', 'netns', 'identify'], { allowFailure: true, timeoutMs: 5000 })).stdout.trim() || undefined);
  const listens = o.loopback === false ? [[o.gateway]] : [[o.gateway, '127.0.0.1'], [o.gateway]];
  let error = 'dnsmasq did not start';
  for (const listen of listens) {
    const resolver = new DnsmasqResolver({ netns, dir: join(o.stateDir, 'dns'), listen, domain: o.domain, upstreams });
    try {
      await resolver.start(o.initialHosts);
      return { resolver };
    } catch (e) {
      await resolver.stop();
      error = (e as Error).message;
    }
  }
  return { error };
}
