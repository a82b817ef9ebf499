// Host-side network for nodes, in the CURRENT network namespace of the runner (tests pass a
// runner bound to a test namespace; never run this in a machine's own namespace from a test).
// Idempotent: the bridge with the gateway address, IPv4 forwarding, and the egress NAT table.
import type { Runner } from '../../exec.ts';
import type { NodeNetworkSetup } from '../driver.ts';
import { assertCidr, renderNatScript } from './nat.ts';
import { parseIpLink, parseIpv4Addresses } from './parse-ip.ts';

export async function prepareHostNetwork(run: Runner, setup: NodeNetworkSetup): Promise<{ changed: string[] }> {
  assertCidr(setup.gatewayCidr, 'gatewayCidr');
  const changed: string[] = [];
  const shown = await run(['ip', '-j', '-d', 'link', 'show', 'dev', setup.bridge], { allowFailure: true });
  const link = shown.exitCode === 0 ? parseIpLink(shown.stdout) : null;
  if (link && link.kind !== 'bridge') throw new Error(`${setup.bridge} exists but is a ${link.kind ?? 'plain'} interface, not a bridge`);
  if (!link) {
    await run(['ip', 'link', 'add', setup.bridge, 'type', 'bridge']);
    changed.push(`bridge ${setup.bridge}`);
  }
  const addresses = parseIpv4Addresses((await run(['ip', '-j', 'addr', 'show', 'dev', setup.bridge])).stdout);
  if (!addresses.includes(setup.gatewayCidr)) {
    await run(['ip', 'addr', 'add', setup.gatewayCidr, 'dev', setup.bridge]);
    changed.push(`address ${setup.gatewayCidr}`);
  }
  // The bridge is the station's own: any other address is a former node subnet's gateway (the
  // station moved to the subnet its mesh allocated), and would keep routing the old subnet here.
  for (const old of addresses.filter((a) => a !== setup.gatewayCidr)) {
    await run(['ip', 'addr', 'del', old, 'dev', setup.bridge]);
    changed.push(`removed ${old}`);
  }
  if (!link?.up) {
    await run(['ip', 'link', 'set', setup.bridge, 'up']);
    changed.push('bridge up');
  }
  // net.ipv4.ip_forward is per network namespace
  const forward = (await run(['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim();
  if (forward !== '1') {
    await run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    changed.push('ip_forward');
  }
  await run(['nft', '-f', '-'], { input: renderNatScript(setup) });
  return { changed };
}
