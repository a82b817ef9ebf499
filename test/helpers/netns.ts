// Network namespaces for tests: every address, route, bridge and firewall rule a test needs lives
// inside namespaces made here (198.18.0.0/15 for simulated LANs and internet), never in the
// machine's own namespace. Each namespace is deleted at cleanup, which also removes its interfaces.
import { exec } from '../../agent/exec.ts';
import { onCleanup } from './cleanup.ts';
import { runName } from './run-prefix.ts';

export interface Netns {
  name: string;
  run(argv: string[]): Promise<string>;
}

export async function createNetns(suffix: string): Promise<Netns> {
  const name = runName(suffix);
  await exec(['ip', 'netns', 'add', name]);
  onCleanup(`netns ${name}`, () => deleteNetns(name));
  await exec(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return { name, run: async (argv) => (await exec(argv, { netns: name })).stdout };
}

export async function deleteNetns(name: string): Promise<void> {
  // Processes still inside would keep the namespace alive: end them first (only ours live there).
  const pids = (await exec(['ip', 'netns', 'pids', name], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await exec(['ip', 'netns', 'del', name], { allowFailure: true });
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
