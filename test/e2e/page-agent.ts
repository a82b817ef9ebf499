// The agent the page tests look at (run inside a test namespace, test/e2e/in-netns.ts): station
// "den" with its own bridge and node subnet. Every node it made is destroyed before it stops (nodes
// keep running when the agent stops), and as a last resort whatever is left in its lxcpath is
// stopped and destroyed after it is gone, before its state directory is removed.
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { onCleanup } from '../helpers/cleanup.ts';
import { runName } from '../helpers/run-prefix.ts';
import { tempStateDir } from './state-dir.ts';

/** The agent, and whether it can run nodes on this machine (GET /nodes answered 200). */
export async function startPageAgent(nodeSubnet: string): Promise<{ agent: AgentHandle; nodesAvailable: boolean }> {
  const stateDir = await tempStateDir();
  onCleanup('containers left in the e2e lxcpath', async () => {
    const lxcPath = join(stateDir, 'lxc');
    const left = (await exec(['lxc-ls', '-1', '-P', lxcPath], { allowFailure: true })).stdout.split('\n').filter(Boolean);
    for (const name of left) {
      await exec(['lxc-stop', '-P', lxcPath, '-n', name, '-k'], { allowFailure: true, timeoutMs: 20_000 }).catch(() => undefined);
      await exec(['lxc-destroy', '-P', lxcPath, '-n', name], { allowFailure: true, timeoutMs: 60_000 }).catch(() => undefined);
    }
  });
  const agent = await startAgent({ stateDir, env: { STATION_NAME: 'den', STATION_BRIDGE: runName('br'), STATION_NODE_SUBNET: nodeSubnet } });
  onCleanup('nodes of the e2e agent', async () => {
    const list = await agent
      .api('/api/v1/nodes')
      .then((r) => r.json() as Promise<{ nodes?: { name: string }[] }>)
      .catch(() => ({ nodes: [] }));
    for (const n of list.nodes ?? []) await agent.api(`/api/v1/nodes/${n.name}?volumes=delete`, { method: 'DELETE', auth: true }).catch(() => undefined);
  });
  return { agent, nodesAvailable: (await agent.api('/api/v1/nodes')).status === 200 };
}
