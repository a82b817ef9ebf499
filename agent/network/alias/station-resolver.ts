// Starts the station's resolver where the agent works: in the namespace its runner runs nft and ip
// in (tests wrap the runner to a namespace; `ip netns identify` names it, empty means our own),
// bound to the gateway and loopback, or to the gateway alone when another resolver holds
// 127.0.0.1:53 (common on hosts; the gateway is what nodes use), forwarding other names to the
// host's servers.
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
    // a second try for a passing failure (slow start on a busy box); loopback taken: next option
    for (let attempt = 0; attempt < 2; attempt++) {
      const resolver = new DnsmasqResolver({ netns, dir: join(o.stateDir, 'dns'), listen, domain: o.domain, upstreams });
      try {
        await resolver.start(o.initialHosts);
        return { resolver };
      } catch (e) {
        await resolver.stop();
        error = (e as Error).message;
        if (/in use/i.test(error)) break;
      }
    }
  }
  return { error };
}
