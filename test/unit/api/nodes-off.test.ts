// A station without usable LXC (the tools are not on the runner's PATH, as on a box without the
// lxc package): the nodes subsystem is off with the reason, node routes answer 503, the agent runs on.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../../agent/config/load.ts';
import { createLogger } from '../../../agent/log.ts';
import { StationSystem } from '../../../agent/system.ts';
import { exec, type Runner } from '../../../agent/exec.ts';
import { buildApp } from '../../../api/app.ts';
import { RUN_PREFIX } from '../../helpers/run-prefix.ts';

interface Ctx {
  system: StationSystem;
  app: FastifyInstance;
  token: string;
  stateDir: string;
}
const t = suite<Ctx>('nodes off');

t.before(async (ctx) => {
  const stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-nodes-off-`));
  const noLxc: Runner = (argv, options = {}) => exec(argv, { ...options, env: { ...options.env, PATH: join(stateDir, 'empty-bin') } });
  const probe = new StationSystem({
    config: loadConfig({ STATION_STATE_DIR: stateDir, STATION_NAME: 'test' }),
    log: createLogger('silent', false),
  });
  const disable = probe.subsystems
    .map((s) => s.name)
    .filter((n) => n !== 'nodes' && n !== 'hardware')
    .join(',');
  const config = loadConfig({
    STATION_STATE_DIR: stateDir,
    STATION_NAME: 'test',
    STATION_DISABLE: disable,
    STATION_NODE_SUBNET: '198.18.45.0/24',
  });
  const system = new StationSystem({ config, log: createLogger('silent', false), run: noLxc });
  await system.start();
  const app = await buildApp({ system });
  await app.ready();
  Object.assign(ctx, { system, app, stateDir, token: (await readFile(join(stateDir, 'admin-token'), 'utf8')).trim() });
});

t.after(async (ctx) => {
  await ctx.app?.close();
  await ctx.system?.stop();
  await rm(ctx.stateDir, { recursive: true, force: true });
});

t('the subsystem is off with the reason; the agent is ready', async ({ app }) => {
  assert.is((await app.inject({ url: '/api/v1/ready' })).statusCode, 200);
  const status = (await app.inject({ url: '/api/v1/status' })).json();
  const nodes = status.subsystems.find((s: { name: string }) => s.name === 'nodes');
  assert.is(nodes.state, 'off');
  assert.match(nodes.reason, /lxc-start/);
});

t('node routes answer 503 NODES_UNAVAILABLE with the reason, and nothing is made', async ({ app, token, stateDir }) => {
  const list = await app.inject({ url: '/api/v1/nodes' });
  assert.is(list.statusCode, 503);
  assert.is(list.json().error.code, 'NODES_UNAVAILABLE');
  assert.match(list.json().error.message, /lxc-start/);
  const create = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    payload: { name: 'web' },
    headers: { authorization: `Bearer ${token}` },
  });
  assert.is(create.statusCode, 503);
  assert.not.ok(existsSync(join(stateDir, 'nodes.json')));
  assert.not.ok(existsSync(join(stateDir, 'lxc', 'web')));
});

t.run();
