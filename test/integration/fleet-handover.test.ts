// Fleet updates under a balena supervisor DOUBLE (the real supervisor cannot run here): the update
// lock defers an update while a node create runs; under the hand-over strategy the new agent
// signals only once it is ready, the old one stops its nodes and the new one starts them from the
// shared state (node downtime measured); health tags reach the balena API DOUBLE.
// Real agents and real LXC nodes. Everything runs inside a test network namespace: this file
// re-runs itself there, so the doubles, the agents and the node bridge all live on its loopback.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { createNetns } from '../helpers/netns.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { SupervisorDouble } from '../doubles/balena-supervisor/supervisor-double.ts';
import { BalenaApiDouble } from '../doubles/balena-api/api-double.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const INSIDE = process.env.STATION_FLEET_TEST_NETNS;

if (!INSIDE) {
  // Outside: make the namespace, run this file inside it, remove the namespace whatever happens.
  const ns = await createNetns('flt');
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, new URL(import.meta.url).pathname], {
    stdio: 'inherit',
    env: { ...process.env, STATION_FLEET_TEST_NETNS: ns.name },
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  await cleanupAll();
  process.exit(code);
}

const DEVICE_UUID = 'f1eetd0ub1e0000000000000000000aa';
const DEVICE_KEY = 'device-api-key-double';
let work: string;
let supervisor: SupervisorDouble;
let api: BalenaApiDouble;
let port: number;
let env: Record<string, string>;
const agents: ChildProcess[] = [];
let current: ChildProcess;
let nextStartBroken = false;
const logs = new Map<ChildProcess, string>();

function startAgentProcess(extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'agent/main.ts')], {
    env: { ...process.env, ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  logs.set(child, '');
  child.stdout!.on('data', (d) => logs.set(child, logs.get(child) + d));
  child.stderr!.on('data', (d) => logs.set(child, logs.get(child) + d));
  onCleanup(`agent ${child.pid}`, () => stopProcess(child, 'SIGKILL'));
  agents.push(child);
  return child;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

async function get(path: string, auth = false): Promise<Response> {
  const token = (await readFile(join(work, 'state', 'admin-token'), 'utf8')).trim();
  return fetch(`http://127.0.0.1:${port}${path}`, {
    headers: auth ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ready = () =>
  waitFor('the agent to be ready', async () => (await get('/api/v1/ready')).status === 200, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${[...logs.values()].join('\n----\n').slice(-4000)}`);
  });
/** [state, init pid] from lxc-info ("State: RUNNING", "PID: 123"). */
const lxcState = async (name: string): Promise<[string, string]> => {
  const out = (await exec(['lxc-info', '-P', join(work, 'lxc'), '-n', name, '-s', '-p'], { allowFailure: true })).stdout;
  return [out.match(/State:\s+(\S+)/)?.[1] ?? 'ABSENT', out.match(/PID:\s+(\d+)/)?.[1] ?? '0'];
};

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-fleet-`));
  onCleanup(`dir ${work}`, () => exec(['rm', '-rf', work]));
  await exec(['ip', 'link', 'set', 'lo', 'up']);
  api = new BalenaApiDouble([DEVICE_KEY]);
  await api.start();
  api.devices.push({
    id: 7,
    uuid: DEVICE_UUID,
    device_name: 'station-test',
    belongs_to__application: 1,
    is_pinned_on__release: null,
    is_online: true,
  });
  supervisor = new SupervisorDouble({
    apiKey: 'supervisor-key-double',
    lockDir: join(work, 'tmp-balena'),
    appId: 1,
    serviceName: 'station',
    commit: 'c0ffee',
    handoverTimeoutMs: 60_000,
    hooks: {
      startNew: async () => {
        current = startAgentProcess(nextStartBroken ? { STATION_HTTP_PORT: 'not-a-port' } : {});
      },
      stopOld: async () => {
        const old = agents.filter((a) => a !== current && a.exitCode === null && a.signalCode === null);
        await Promise.all(old.map((a) => stopProcess(a)));
      },
    },
  });
  await supervisor.start();
  onCleanup('doubles', async () => {
    await supervisor.stop();
    await api.stop();
  });
  port = 20000 + Math.floor(Math.random() * 20000);
  env = {
    STATION_STATE_DIR: join(work, 'state'),
    STATION_HTTP_HOST: '127.0.0.1',
    STATION_HTTP_PORT: String(port),
    STATION_NAME: 'fleet-test',
    STATION_LXC_PATH: join(work, 'lxc'),
    STATION_BRIDGE: runName('br'),
    STATION_NODE_SUBNET: '198.18.77.0/24',
    STATION_TEMPLATE_CACHE: TEMPLATE_CACHE,
    STATION_DISABLE: 'mesh,wifi,discovery,indicator',
    // plain directories: a pool the agent mounted inside its namespace would outlive the test
    STATION_STORAGE_DRIVER: 'dir',
    STATION_FLEET_REPORT_SECONDS: '10',
    STATION_LOG_LEVEL: 'info',
    BALENA_SUPERVISOR_ADDRESS: supervisor.address,
    BALENA_SUPERVISOR_API_KEY: 'supervisor-key-double',
    BALENA_APP_LOCK_PATH: supervisor.lockPath,
    BALENA_APP_ID: '1',
    BALENA_SERVICE_NAME: 'station',
    BALENA_DEVICE_UUID: DEVICE_UUID,
    BALENA_API_URL: api.address,
    BALENA_API_KEY: DEVICE_KEY,
  };
  onCleanup('nodes', async () => {
    const names = (await exec(['lxc-ls', '-P', join(work, 'lxc'), '-1'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
    for (const name of names) await exec(['lxc-destroy', '-f', '-P', join(work, 'lxc'), '-n', name], { allowFailure: true, timeoutMs: 30_000 });
  });
  current = startAgentProcess();
  await ready();
});

test.after(async () => {
  await cleanupAll();
});

test('the station reports health, version and node counts as device tags', async () => {
  // node counts join the tags once the node service has listed the nodes (the next report at the latest)
  const tags = await waitFor('tags', async () => {
    const t = api.tagsOf(7);
    return t['station.health'] && t['station.nodes.total'] ? t : null;
  });
  assert.equal(tags['station.health'], 'ok');
  assert.equal(tags['station.version'], JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
  assert.equal(tags['station.name'], 'fleet-test');
  assert.equal(tags['station.nodes.total'], '0');
  const fleet = ((await (await get('/api/v1/status')).json()) as any).summaries.fleet;
  assert.equal(fleet.balena, true);
  assert.equal(fleet.owner, true);
});

async function api1(method: string, path: string, body?: unknown): Promise<Response> {
  const token = (await readFile(join(work, 'state', 'admin-token'), 'utf8')).trim();
  return fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(120_000),
  });
}
const supervisorCall = (method: string, path: string, body?: unknown) =>
  fetch(`${supervisor.address}${path}?apikey=supervisor-key-double`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
const lockExists = () =>
  access(supervisor.lockPath).then(
    () => true,
    () => false,
  );

let initPid = 0;

test('an update is deferred while a node create holds the update lock, and applied after', async () => {
  const creating = api1('POST', '/nodes', {
    name: 'web',
    template: 'busybox',
    modules: [{ name: 'loop', run: 'while true; do sleep 1; done' }],
  });
  // The create holds balena's lock file; ask for an update (and a service restart) meanwhile.
  const t0 = Date.now();
  while (!(await lockExists())) {
    if (Date.now() - t0 > 30_000) throw new Error(`no update lock during the create: ${await (await creating).text()}\n${logs.get(current)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  // A busybox create holds the lock for a few tens of milliseconds; freeze the agent mid-create so
  // the supervisor's requests below surely land inside the operation (its lxc children run on).
  current.kill('SIGSTOP');
  try {
    assert.ok(await lockExists(), 'the create still holds the lock once the agent is frozen');
    assert.equal((await supervisorCall('POST', '/v1/update', { force: false })).status, 204);
    const restart = await supervisorCall('POST', '/v2/applications/1/restart-service', { serviceName: 'station' });
    assert.equal(restart.status, 423, 'a restart is refused while the lock is held');
    await waitFor('the supervisor to defer', async () => supervisor.events.some((e) => e.what === 'deferred-locked'), 10_000);
    const device = (await (await supervisorCall('GET', '/v1/device')).json()) as any;
    assert.equal(device.update_pending, true);
    assert.equal(device.status, 'Updates locked');
    assert.not.ok(
      supervisor.events.some((e) => e.what === 'new-started'),
      'nothing applied while the create runs',
    );
  } finally {
    current.kill('SIGCONT');
  }
  const lockOwner = supervisor.lockSeen;
  assert.ok(lockOwner?.includes('"holder":"station-agent"'), `the lock was the agent's: ${lockOwner}`);
  const created = await creating;
  assert.equal(created.status, 201, await created.clone().text());
  const [state, pid] = await lxcState('web');
  assert.equal(state, 'RUNNING');
  initPid = Number(pid);
  assert.ok(initPid > 1);
  // The lock is gone with the create; the deferred update now goes ahead (hand-over, next test).
  assert.equal((await supervisorCall('POST', '/v2/applications/1/restart-service', { serviceName: 'station' })).status, 200);
});

test('hand-over: signalled once the new agent is ready; the old stops its node, the new starts it', async () => {
  // Sample the node's state every 50 ms through the update to measure its downtime.
  const samples: { at: number; running: boolean; pid: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [state, pid] = await lxcState('web');
      samples.push({ at: Date.now(), running: state === 'RUNNING', pid: Number(pid) || 0 });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await supervisor.updateApplied(120_000);
  await ready();
  await waitFor('the node running again', async () => (await lxcState('web'))[0] === 'RUNNING', 30_000);
  sampling = false;
  await sampler;

  const what = supervisor.events.map((e) => e.what);
  const order = (w: string) => what.indexOf(w as never);
  assert.ok(order('new-started') < order('handover-signalled') && order('handover-signalled') < order('old-stopped'), what.join(', '));
  assert.not.ok(what.includes('handover-timeout'), what.join(', '));
  const newLog = logs.get(current)!;
  // Ready first (every other subsystem started, the node lease seen held), then the signal.
  assert.match(newLog, /hand-over: ready, signalling the supervisor/);
  assert.match(newLog, /hand-over: the previous agent released the nodes; taking over/);
  const oldLog = logs.get(agents[0]!)!;
  assert.match(oldLog, /fleet: nodes stopped for the next agent/);

  const status = (await (await get('/api/v1/status')).json()) as any;
  assert.equal(status.summaries.fleet.owner, true);
  assert.ok(status.summaries.fleet.handedOverAt, 'the agent answering is the new one');
  const node = (await (await api1('GET', '/nodes/web')).json()) as any;
  assert.equal(node.state ?? node.observed?.state, 'running', JSON.stringify(node));
  const [, pid] = await lxcState('web');
  assert.not.equal(Number(pid), initPid, 'the node was restarted by the new agent');

  let downFrom = 0;
  let downtime = 0;
  for (const s of samples) {
    if (!s.running && !downFrom) downFrom = s.at;
    if (s.running && downFrom) {
      downtime = Math.max(downtime, s.at - downFrom);
      downFrom = 0;
    }
  }
  const waited = status.summaries.fleet.takeoverWaitMs;
  console.log(
    JSON.stringify({
      nodeDowntimeMs: downtime,
      takeoverWaitMs: waited,
      events: supervisor.events.map((e) => `${e.what}@${e.at - supervisor.events[0]!.at}`),
    }),
  );
  assert.ok(downtime > 0 && downtime < 30_000, `node downtime ${downtime} ms`);
  await waitFor('tags from the new agent', async () => api.tagsOf(7)['station.nodes.running'] === '1', 30_000);
  assert.equal(api.tagsOf(7)['station.nodes.total'], '1');
});

test('a new agent that cannot start never signals hand-over; the old one keeps the nodes until the timeout', async () => {
  supervisor.options.handoverTimeoutMs = 3000;
  nextStartBroken = true;
  const before = supervisor.events.length;
  assert.equal((await supervisorCall('POST', '/v1/update', {})).status, 204);
  await supervisor.updateApplied(60_000);
  const what = supervisor.events.slice(before).map((e) => e.what);
  assert.ok(what.includes('handover-timeout'), what.join(', '));
  assert.not.ok(what.includes('handover-signalled'), what.join(', '));
  assert.not.equal(current.exitCode, 0);
});

test.run();
