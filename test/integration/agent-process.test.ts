// The agent as a process, the way a station runs it: inside a test network namespace, every
// subsystem on, real hardware; configuration errors, first-start token, graceful stop.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { exec } from '../../agent/exec.ts';

const MAIN = new URL('../../agent/main.ts', import.meta.url).pathname;
const agentSuite = suite<{ ns: Netns; agent: AgentHandle }>('agent process');

agentSuite.before(async (ctx) => {
  ctx.ns = await createNetns('agent');
  await exec(['ip', '-n', ctx.ns.name, 'addr', 'add', '127.0.0.1/8', 'dev', 'lo'], { allowFailure: true });
  ctx.agent = await startAgent({ netns: ctx.ns.name, env: { STATION_NODE_SUBNET: '198.18.77.0/24', STATION_BRIDGE: 'stagentbr0' } });
});
agentSuite.after(cleanupAll);

agentSuite('a bad setting stops the agent with one line naming the key, before doing anything', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, STATION_STATE_DIR: '/nonexistent/station-test', STATION_HTTP_PORT: 'abc' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.is(code, 2);
  const lines = stderr.trim().split('\n');
  assert.is(lines.length, 1, stderr);
  assert.match(lines[0]!, /STATION_HTTP_PORT/);
  assert.not.match(stderr, /\s+at /, 'no stack trace');
});

agentSuite('first start makes the admin token, mode 0600', async ({ agent }) => {
  const s = await stat(join(agent.stateDir, 'admin-token'));
  assert.is(s.mode & 0o777, 0o600);
  assert.ok(agent.token.length >= 40);
});

agentSuite('status describes this machine with its real hardware', async ({ agent }) => {
  let status: { name: string; hardware: { cpuCores: number } | null; subsystems: { name: string }[] } | undefined;
  for (let i = 0; i < 50 && !status?.hardware; i++) {
    status = (await (await agent.api('/api/v1/status')).json()) as typeof status;
    if (!status?.hardware) await new Promise((r) => setTimeout(r, 100));
  }
  assert.is(status!.name, 'test-station');
  assert.is(status!.hardware!.cpuCores, cpus().length);
  assert.ok(status!.subsystems.some((s) => s.name === 'hardware'));
});

agentSuite('mutations need the token; with it they reach the route', async ({ agent }) => {
  const anonymous = await agent.api('/api/v1/nodes', { method: 'POST', json: {} });
  assert.is(anonymous.status, 401);
  assert.is(((await anonymous.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  const withToken = await agent.api('/api/v1/nodes', { method: 'POST', json: { surely: 'invalid' }, auth: true });
  assert.ok(withToken.status === 400 || withToken.status === 404 || withToken.status === 503, `got ${withToken.status}`);
});

agentSuite('SIGTERM stops the agent within 10 s, even with an event stream open', async ({ ns, agent }) => {
  const stream = spawn('ip', ['netns', 'exec', ns.name, 'curl', '-sN', `${agent.baseUrl}/api/v1/events`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  const code = await agent.stop('SIGTERM');
  const took = Date.now() - started;
  stream.kill('SIGKILL');
  assert.is(code, 0);
  assert.ok(took < 10_000, `stopped in ${took} ms`);
});

agentSuite('a restarted agent keeps its token', async ({ ns, agent }) => {
  const again = await startAgent({
    netns: ns.name,
    stateDir: agent.stateDir,
    env: { STATION_NODE_SUBNET: '198.18.77.0/24', STATION_BRIDGE: 'stagentbr0' },
  });
  assert.is(again.token, agent.token);
  await again.stop();
});

agentSuite.run();
