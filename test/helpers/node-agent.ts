// A station that runs nodes, for the tests that start the agent process in a test namespace: a per-run
// state directory with the LXC path inside, removed at cleanup after its containers are stopped and
// destroyed (even when a test fails), and the environment that points the agent's node engine at it.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';
import { onCleanup } from './cleanup.ts';
import { createNetns, type Netns } from './netns.ts';
import { RUN_PREFIX, runName } from './run-prefix.ts';

export async function nodeStateDir(ns: Netns, label: string): Promise<{ stateDir: string; lxcPath: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-${label}-`));
  const lxcPath = join(stateDir, 'lxc');
  onCleanup(`state ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  const lxc = netnsRunner(ns.name);
  onCleanup(`containers in ${lxcPath}`, async () => {
    for (const name of await readdir(lxcPath).catch(() => [] as string[])) {
      await lxc(['lxc-stop', '-P', lxcPath, '-n', name, '-k'], { allowFailure: true, timeoutMs: 30_000 });
      await lxc(['lxc-destroy', '-P', lxcPath, '-n', name], { allowFailure: true, timeoutMs: 60_000 });
    }
  });
  return { stateDir, lxcPath };
}

/** A test namespace (createNetns(tag)) for a station that runs nodes, with its state directory (nodeStateDir). */
export async function nodeNetns(tag: string, label: string): Promise<{ ns: Netns; stateDir: string; lxcPath: string }> {
  const ns = await createNetns(tag);
  return { ns, ...(await nodeStateDir(ns, label)) };
}

/** The agent's environment for nodes at `lxcPath` on `subnet` (a CIDR), with the subsystems a node test does not need off. */
export const nodeAgentEnv = (lxcPath: string, subnet: string): Record<string, string> => ({
  STATION_LXC_PATH: lxcPath,
  STATION_BRIDGE: runName('br'),
  STATION_NODE_SUBNET: subnet,
  STATION_TEMPLATE_CACHE: TEMPLATE_CACHE,
  STATION_DISABLE: 'mesh,wifi,discovery,indicator',
});
