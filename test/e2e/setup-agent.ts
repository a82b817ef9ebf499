// The agent as a station before its setup, for the tests of the setup hotspot (run inside a test
// namespace, test/e2e/in-netns.ts): listening on every address of the namespace (the helper's own
// calls use loopback), named "den", opening the hotspot 10 s after it finds no network.
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { tempStateDir } from './state-dir.ts';

/** `disable`: the subsystems left off (STATION_DISABLE). */
export async function startSetupAgent(disable: string): Promise<{ agent: AgentHandle; port: number }> {
  const agent = await startAgent({
    stateDir: await tempStateDir(),
    env: {
      STATION_HTTP_HOST: '0.0.0.0',
      STATION_NAME: 'den',
      STATION_HOTSPOT_AFTER_SECONDS: '10',
      STATION_DISABLE: disable,
    },
  });
  return { agent, port: Number(new URL(agent.baseUrl).port) };
}
