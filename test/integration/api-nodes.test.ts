// The node routes through the real app and StationSystem, with the real LXC driver whose every
// command runs inside a test network namespace (the runner is wrapped, not faked): shapes of
// 400/401/404/409, and that a refused request creates nothing.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../agent/config/load.ts';
import { createLogger } from '../../agent/log.ts';
import { StationSystem } from '../../agent/system.ts';
import { exec } from '../../agent/exec.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { buildApp } from '../../api/app.ts';
import { createNetns } from '../helpers/netns.ts';
import { onCleanup, cleanupAll } from '../helpers/cleanup.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';

interface Ctx {
  system: StationSystem;
  app: FastifyInstance;
  token: string;
  stateDir: string;
  lxcPath: string;
  ns: string;
}
const t = suite<Ctx>('node routes');
const node = (suffix: string) => `${RUN_PREFIX}${suffix}`;

t.before(async (ctx) => {
  const ns = await createNetns('api');
  const stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-nodes-api-`));
  onCleanup(`state ${stateDir}`, () => exec(['rm', '-rf', stateDir]));
  const lxcPath = join(stateDir, 'lxc');
  const run = netnsRunner(ns.name);
  // Containers are stopped through the same namespace (LXC's command sockets are per namespace).
  onCleanup(`containers in ${lxcPath}`, async () => {
    for (const name of await readdir(lxcPath).catch(() => [] as string[])) {
      await run(['lxc-stop', '-P', lxcPath, '-n', name, '-k'], { allowFailure: true });
      await run(['lxc-destroy', '-P', lxcPath, '-n', name], { allowFailure: true });
    }
  });
  const config = loadConfig({
    STATION_STATE_DIR: stateDir,
    STATION_NAME: 'test',
    STATION_LXC_PATH: lxcPath,
    STATION_BRIDGE: runName('br'),
    STATION_NODE_SUBNET: '198.18.41.0/24',
    STATION_TEMPLATE_CACHE: '/var/cache/station-test/templates',
    STATION_RECONCILE_SECONDS: '3600',
    STATION_STORAGE_DRIVER: 'dir', // plain directories: nothing mounted for a test about routes
    STATION_DISABLE: 'mesh,wifi,discovery,indicator',
  });
  const system = new StationSystem({ config, log: createLogger('silent', false), run });
  await system.start();
  const app = await buildApp({ system });
  await app.ready();
  Object.assign(ctx, {
    system,
    app,
    ns: ns.name,
    stateDir,
    lxcPath,
    token: (await readFile(join(stateDir, 'admin-token'), 'utf8')).trim(),
  });
});

t.after(async (ctx) => {
  await ctx.app?.close();
  await ctx.system?.stop();
  await cleanupAll();
});

const post = (ctx: Ctx, url: string, payload: unknown, auth = true) =>
  ctx.app.inject({ method: 'POST', url, payload: payload as object, headers: auth ? { authorization: `Bearer ${ctx.token}` } : {} });

async function nothingCreated(ctx: Ctx, name: string): Promise<void> {
  assert.not.ok(existsSync(join(ctx.lxcPath, name)), `no container directory for ${name}`);
  assert.not.ok(existsSync(join(ctx.stateDir, 'volumes', name)), `no volumes for ${name}`);
  assert.is((await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).statusCode, 404);
  const ls = await ctx.system.run(['lxc-ls', '-P', ctx.lxcPath, '-1']);
  assert.not.ok(ls.stdout.split('\n').includes(name), 'lxc-ls does not show it');
}

t('the nodes subsystem is up with LXC in the test namespace', async (ctx) => {
  const status = (await ctx.app.inject({ url: '/api/v1/status' })).json();
  const nodes = status.subsystems.find((s: { name: string }) => s.name === 'nodes');
  assert.is(nodes.state, 'ok', JSON.stringify(nodes));
  assert.equal((await ctx.app.inject({ url: '/api/v1/nodes' })).json(), { nodes: [] });
});

t('bad specs are 400 INVALID_* in the error shape and create nothing', async (ctx) => {
  const name = node('bad');
  const bad: unknown[] = [
    { name: 'Bad_Name' },
    { name, template: 'alpine' },
    { name, profile: 'root' },
    { name, resources: { memoryMB: -5 } },
    { name, volumes: [{ name: 'v', path: '/srv/../etc' }] },
    {
      name,
      volumes: [
        { name: 'v', path: '/a' },
        { name: 'v', path: '/b' },
      ],
    },
    {
      name,
      modules: [
        { name: 'm', run: 'a' },
        { name: 'm', run: 'b' },
      ],
    },
    { name, colour: 'blue' },
    { name, resources: { memoryMB: '64' } },
    { name, modules: [{ name: 'm', packages: ['curl'] }] },
    { name, network: { egress: [{ to: 'node:No_Such_Node', ports: [80] }] } },
    { name, network: { ingress: [{ from: 'lan', ports: [0] }] } },
  ];
  for (const spec of bad) {
    const res = await post(ctx, '/api/v1/nodes', spec);
    assert.is(res.statusCode, 400, `${JSON.stringify(spec)} -> ${res.body}`);
    assert.match(res.json().error.code, /^INVALID_/);
    assert.type(res.json().error.message, 'string');
  }
  await nothingCreated(ctx, name);
});

t('changes need the token: 401 and nothing created', async (ctx) => {
  const res = await post(ctx, '/api/v1/nodes', { name: node('noauth') }, false);
  assert.is(res.statusCode, 401);
  assert.is(res.json().error.code, 'UNAUTHORIZED');
  await nothingCreated(ctx, node('noauth'));
});

t('unknown nodes are 404 NODE_NOT_FOUND on every node route, also a name every object inherits', async (ctx) => {
  // "constructor" is a DNS label and a property of every plain object: it once found
  // Object.prototype.constructor (500), and a stop saved a broken record that broke every list.
  for (const name of [node('ghost'), 'constructor']) {
    const calls = [
      ctx.app.inject({ url: `/api/v1/nodes/${name}` }),
      ctx.app.inject({ url: `/api/v1/nodes/${name}/logs`, headers: { authorization: `Bearer ${ctx.token}` } }),
      ctx.app.inject({ url: `/api/v1/nodes/${name}/stats` }),
      ctx.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${name}`, headers: { authorization: `Bearer ${ctx.token}` } }),
      ctx.app.inject({
        method: 'PATCH',
        url: `/api/v1/nodes/${name}`,
        payload: { labels: { a: 'b' } },
        headers: { authorization: `Bearer ${ctx.token}` },
      }),
      ...['start', 'stop', 'restart', 'recreate'].map((a) => post(ctx, `/api/v1/nodes/${name}/${a}`, {})),
      post(ctx, `/api/v1/nodes/${name}/exec`, { command: ['true'] }),
    ];
    for (const res of await Promise.all(calls)) {
      assert.is(res.statusCode, 404, res.body);
      assert.is(res.json().error.code, 'NODE_NOT_FOUND');
    }
    await nothingCreated(ctx, name);
  }
  const list = await ctx.app.inject({ url: '/api/v1/nodes' });
  assert.is(list.statusCode, 200, list.body);
  assert.is((await ctx.app.inject({ url: '/api/v1/status' })).statusCode, 200);
});

t('a node that does not fit is refused with a capacity error and nothing is made', async (ctx) => {
  const name = node('huge');
  const res = await post(ctx, '/api/v1/nodes', { name, resources: { memoryMB: 1_000_000 } });
  assert.is(res.statusCode, 409, res.body);
  assert.is(res.json().error.code, 'INSUFFICIENT_MEMORY');
  assert.match(res.json().error.message, /needs 1000000 MiB/);
  await nothingCreated(ctx, name);
});

t('create, then the same name again is 409 NODE_EXISTS; the first node is untouched', async (ctx) => {
  const name = node('dup');
  const first = await post(ctx, '/api/v1/nodes', { name, labels: { room: 'hall' } });
  assert.is(first.statusCode, 201, first.body);
  const created = first.json();
  assert.is(created.state, 'running');
  assert.match(created.address, /^198\.18\.41\.\d+$/);
  assert.is(created.fqdn, `${name}.test.mesh.internal`);
  assert.equal(created.spec.labels, { room: 'hall' });
  const again = await post(ctx, '/api/v1/nodes', { name, labels: { room: 'attic' } });
  assert.is(again.statusCode, 409);
  assert.is(again.json().error.code, 'NODE_EXISTS');
  const shown = (await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).json();
  assert.equal(shown.spec.labels, { room: 'hall' });
  assert.is(shown.pid, created.pid, 'not restarted');
  assert.is(shown.address, created.address);
});

t('without the token a node shows its env names but not their values, and its logs are refused', async (ctx) => {
  const name = node('env');
  const created = await post(ctx, '/api/v1/nodes', { name, env: { API_KEY: 'hunter2-secret', MODE: 'quiet' } });
  assert.is(created.statusCode, 201, created.body);
  assert.equal(created.json().spec.env, { API_KEY: 'hunter2-secret', MODE: 'quiet' }, 'the admin who made it sees the values');
  for (const headers of [{}, { authorization: 'Bearer wrong-token' }]) {
    const one = await ctx.app.inject({ url: `/api/v1/nodes/${name}`, headers });
    assert.is(one.statusCode, 200, one.body);
    assert.equal(Object.keys(one.json().spec.env).sort(), ['API_KEY', 'MODE']);
    assert.not.match(one.body, /hunter2|quiet/, `GET /nodes/${name} ${JSON.stringify(headers)} shows no value`);
    const list = await ctx.app.inject({ url: '/api/v1/nodes', headers });
    assert.not.match(list.body, /hunter2|quiet/, 'nor does the list');
    const logs = await ctx.app.inject({ url: `/api/v1/nodes/${name}/logs`, headers });
    assert.is(logs.statusCode, 401, logs.body);
    assert.is(logs.json().error.code, 'UNAUTHORIZED');
  }
  const admin = { authorization: `Bearer ${ctx.token}` };
  assert.equal((await ctx.app.inject({ url: `/api/v1/nodes/${name}`, headers: admin })).json().spec.env, {
    API_KEY: 'hunter2-secret',
    MODE: 'quiet',
  });
  assert.match((await ctx.app.inject({ url: '/api/v1/nodes', headers: admin })).body, /hunter2-secret/);
  assert.is((await ctx.app.inject({ url: `/api/v1/nodes/${name}/logs`, headers: admin })).statusCode, 200);
  assert.is((await ctx.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${name}?volumes=delete`, headers: admin })).statusCode, 200);
});

t('a burst of anonymous reads of one node observes it once for all of them, not once each', async (ctx) => {
  // Reading a node's state scans /proc for LXC monitors (synchronously, ~3 ms; lxc-info for a node
  // that is starting or stopping) and its cgroup files: per request, a flood blocks the agent.
  const name = node('dup');
  const service = ctx.system.nodes.actions();
  const get = service.get.bind(service);
  let reads = 0;
  service.get = (...args) => {
    reads++;
    return get(...args);
  }; // watched, not replaced
  try {
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ctx.app.inject({ url: `/api/v1/nodes/${name}${i % 2 ? '/stats' : ''}`, remoteAddress: `198.18.9.${i}` })),
    );
    assert.ok(
      burst.every((r) => r.statusCode === 200),
      burst.map((r) => r.statusCode).join(','),
    );
    assert.ok(burst.every((r) => r.json().state === 'running'));
    // 0 when an earlier case read this node under a second ago: that shared answer is still fresh.
    assert.ok(reads <= 1, `${reads} node reads for 20 requests`);
    // A change the station sees is shown at once, not after the shared answer's life.
    const stopped = await post(ctx, `/api/v1/nodes/${name}/stop`, { timeoutSeconds: 0 });
    assert.is(stopped.statusCode, 200, stopped.body);
    assert.is((await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).json().state, 'stopped');
    assert.is((await post(ctx, `/api/v1/nodes/${name}/start`, {})).statusCode, 200);
    assert.is((await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).json().state, 'running');
  } finally {
    service.get = get;
  }
});

t('applying the same desired state again changes nothing (start twice, a reconcile pass)', async (ctx) => {
  const name = node('dup');
  const before = (await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).json();
  const again = await post(ctx, `/api/v1/nodes/${name}/start`, {});
  assert.is(again.statusCode, 200, again.body);
  assert.is(again.json().pid, before.pid, 'start on a running node does not restart it');
  const saved = await readFile(join(ctx.stateDir, 'nodes.json'), 'utf8');
  await ctx.system.nodes.reconcileNow();
  await ctx.system.nodes.reconcileNow();
  const after = (await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).json();
  assert.is(after.pid, before.pid);
  assert.is(after.state, 'running');
  assert.is(JSON.parse(await readFile(join(ctx.stateDir, 'nodes.json'), 'utf8')).data.nodes[name].builtHash, JSON.parse(saved).data.nodes[name].builtHash);
});

t('PATCH refuses fields that cannot change and bad values (400), accepts labels', async (ctx) => {
  const name = node('dup');
  const auth = { authorization: `Bearer ${ctx.token}` };
  for (const payload of [{ template: 'debian' }, { name: 'other' }, { resources: { cpus: -1 } }, {}, { network: { egress: [{ to: 'node:Ghost_1' }] } }]) {
    const res = await ctx.app.inject({ method: 'PATCH', url: `/api/v1/nodes/${name}`, payload, headers: auth });
    assert.is(res.statusCode, 400, `${JSON.stringify(payload)} -> ${res.body}`);
  }
  const before = (await ctx.app.inject({ url: `/api/v1/nodes/${name}` })).json();
  const ok = await ctx.app.inject({
    method: 'PATCH',
    url: `/api/v1/nodes/${name}`,
    payload: { labels: { room: 'attic', contact: 'ann' } },
    headers: auth,
  });
  assert.is(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().spec.labels, { room: 'attic', contact: 'ann' });
  assert.is(ok.json().pid, before.pid, 'a label change does not restart the node');
});

t('exec on a stopped node is 409 NODE_NOT_RUNNING; exec bodies are checked', async (ctx) => {
  const name = node('dup');
  assert.is((await post(ctx, `/api/v1/nodes/${name}/exec`, { command: [] })).statusCode, 400);
  assert.is((await post(ctx, `/api/v1/nodes/${name}/exec`, { command: 'ls' })).statusCode, 400);
  const ran = await post(ctx, `/api/v1/nodes/${name}/exec`, { command: ['hostname'] });
  assert.is(ran.statusCode, 200, ran.body);
  assert.equal(ran.json(), { exitCode: 0, stdout: `${name}\n`, stderr: '' });
  const stopped = await post(ctx, `/api/v1/nodes/${name}/stop`, { timeoutSeconds: 0 });
  assert.is(stopped.statusCode, 200, stopped.body);
  assert.is(stopped.json().state, 'stopped');
  const res = await post(ctx, `/api/v1/nodes/${name}/exec`, { command: ['true'] });
  assert.is(res.statusCode, 409);
  assert.is(res.json().error.code, 'NODE_NOT_RUNNING');
});

t('DELETE removes the node and a second DELETE is 404', async (ctx) => {
  const name = node('dup');
  const auth = { authorization: `Bearer ${ctx.token}` };
  assert.is((await ctx.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${name}?volumes=maybe`, headers: auth })).statusCode, 400);
  const res = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${name}?volumes=delete`, headers: auth });
  assert.is(res.statusCode, 200, res.body);
  assert.equal(res.json(), { name, deleted: true, volumesDeleted: true });
  await nothingCreated(ctx, name);
  assert.is((await ctx.app.inject({ method: 'DELETE', url: `/api/v1/nodes/${name}`, headers: auth })).statusCode, 404);
});

t.run();
