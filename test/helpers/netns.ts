// Network namespaces for tests: every address, route, bridge and firewall rule a test needs lives
// inside namespaces made here (198.18.0.0/15 for simulated LANs and internet), never in the
// machine's own namespace. Each namespace is deleted at cleanup, which also removes its interfaces.
import { exec } from '../../agent/exec.ts';
import { removeNetns } from '../../scripts/lib/netns.ts';
import { onCleanup } from './cleanup.ts';
import { runName } from './run-prefix.ts';

export interface Netns {
  name: string;
  run(argv: string[]): Promise<string>;
}

export async function createNetns(suffix: string): Promise<Netns> {
  const name = runName(suffix);
  await exec(['ip', 'netns', 'add', name]);
  onCleanup(`netns ${name}`, () => removeNetns(name));
  await exec(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return { name, run: async (argv) => (await exec(argv, { netns: name })).stdout };
}

/** A veth pair joining two namespaces, with addresses (CIDR notation) on each end. */
export async function link(a: Netns, aAddr: string, b: Netns, bAddr: string, suffix: string): Promise<{ aIf: string; bIf: string }> {
  const aIf = runName(`${suffix}a`);
  const bIf = runName(`${suffix}b`);
  await exec(['ip', 'link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  await exec(['ip', '-n', a.name, 'addr', 'add', aAddr, 'dev', aIf]);
  await exec(['ip', '-n', b.name, 'addr', 'add', bAddr, 'dev', bIf]);
  await exec(['ip', '-n', a.name, 'link', 'set', aIf, 'up']);
  await exec(['ip', '-n', b.name, 'link', 'set', bIf, 'up']);
  return { aIf, bIf };
}

/** A veth pair in the namespace this process runs in (a test's own, see test/e2e/in-netns.ts), each end up
 * with its address: two interfaces to reach the agent on, as a hotspot and a LAN (this kernel has no dummy devices). */
export async function localVethPair(a: { suffix: string; cidr: string }, b: { suffix: string; cidr: string }): Promise<void> {
  const [aIf, bIf] = [runName(a.suffix), runName(b.suffix)];
  await exec(['ip', 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf]);
  for (const [name, cidr] of [
    [aIf, a.cidr],
    [bIf, b.cidr],
  ] as const) {
    await exec(['ip', 'addr', 'add', cidr, 'dev', name]);
    await exec(['ip', 'link', 'set', name, 'up']);
  }
}
