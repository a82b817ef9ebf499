// The `station` command against a running agent in a test namespace, as a person or script uses it.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { cpus } from 'node:os';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { exec } from '../../agent/exec.ts';

const STATION = new URL('../../scripts/station', import.meta.url).pathname;
const cli = suite<{
  ns: Netns;
  agent: AgentHandle;
  station: (...args: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
}>('station CLI');

cli.before(async (ctx) => {
  ctx.ns = await createNetns('cli');
  ctx.agent = await startAgent({ netns: ctx.ns.name, env: { STATION_NODE_SUBNET: '198.18.78.0/24', STATION_BRIDGE: 'stclibr0' } });
  ctx.station = (...args) =>
    exec([STATION, ...args], {
      netns: ctx.ns.name,
      allowFailure: true,
      timeoutMs: 30_000,
      env: { STATION_URL: ctx.agent.baseUrl, STATION_STATE_DIR: ctx.agent.stateDir },
    });
});
cli.after(cleanupAll);

cli('status --json is the API document', async ({ station }) => {
  const out = await station('status', '--json');
  assert.is(out.exitCode, 0, out.stderr);
  const status = JSON.parse(out.stdout);
  assert.is(status.name, 'test-station');
  assert.type(status.uptimeSeconds, 'number');
});

cli('status for people: name, health and a subsystem table', async ({ station }) => {
  const out = await station('status');
  assert.is(out.exitCode, 0, out.stderr);
  assert.match(out.stdout, /^station: +test-station \((ok|degraded|starting)\)$/m);
  assert.match(out.stdout, /^SUBSYSTEM +STATE +REASON$/m);
  assert.match(out.stdout, /^hardware +ok/m);
});

cli('hardware shows this machine and why capabilities are missing', async ({ station }) => {
  const human = await station('hardware');
  assert.is(human.exitCode, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`\\(${cpus().length} cores\\)`));
  assert.match(human.stdout, /^CAPABILITY +OK +WHY$/m);
  assert.match(human.stdout, /^lxc +(yes|no) +\S/m);
  const json = JSON.parse((await station('hardware', '--json')).stdout);
  assert.is(json.cpu.cores, cpus().length);
});

cli('token prints the admin token from the state dir', async ({ station, agent }) => {
  const out = await station('token');
  assert.is(out.stdout.trim(), agent.token);
});

cli('mistakes get clear messages and non-zero exits', async ({ station, ns }) => {
  const unknown = await station('frobnicate');
  assert.is(unknown.exitCode, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const down = await exec([STATION, 'status'], { netns: ns.name, allowFailure: true, env: { STATION_URL: 'http://127.0.0.1:1' } });
  assert.is(down.exitCode, 1);
  assert.match(down.stderr, /cannot reach the station agent at http:\/\/127\.0\.0\.1:1/);
});

cli.run();
