// The Network Node with real LXC nodes through the real agent (inside a test namespace, started
// like the station starts it): nodes are created over the API with a `network` policy, the agent's
// network subsystem follows the node service, and packets between the containers show the policy:
// allowed node-to-node flows pass, their neighbours are dropped in both directions, the admin API
// is closed to nodes unless a policy opens it, a PATCH takes effect on running nodes, and nodes
// resolve each other's names through the station's resolver.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsArgv, netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { exec } from '../../agent/exec.ts';
import { fetchInNetns } from '../helpers/agent-process.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const SUBNET = '198.18.47';
const GATEWAY = `${SUBNET}.1`;
const port = 30000 + Math.floor(Math.random() * 20000);
const [A, B, C] = ['a', 'b', 'c'].map((s) => `${RUN_PREFIX}${s}`) as [string, string, string];

let ns: Netns;
let stateDir: string;
let lxcPath: string;
let output = '';
const addresses = new Map<string, string>();

async function api(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.method && init.method !== 'GET') headers.authorization = `Bearer ${(await readFile(join(stateDir, 'admin-token'), 'utf8')).trim()}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetchInNetns(ns.name, `http://${GATEWAY}:${port}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

/** True when `node` gets an HTTP answer from host:p within 2 s (busybox nc inside the container). */
async function reach(node: string, host: string, p: number): Promise<boolean> {
  const res = await api(`/nodes/${node}/exec`, {
    method: 'POST',
    json: { command: ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} ${p}`] },
  });
  assert.is(res.status, 200, await res.clone().text());
  return ((await res.json()) as { stdout: string }).stdout.includes('HTTP/1');
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function flows(cases: [string, string, string, number, boolean][]): Promise<void> {
  const got = await Promise.all(cases.map(([, from, host, p]) => reach(from, host, p)));
  assert.equal(
    cases.filter((c, i) => got[i] !== c[4]).map(([label, , , , want]) => `${label}: expected ${want ? 'open' : 'dropped'}`),
    [],
  );
}

const t = suite('network policy on LXC nodes through the agent');

t.before(async () => {
  try {
    await setUp();
  } catch (error) {
    // uvu does not report a failing before hook: say why, with the agent's last words
    process.stderr.write(`set-up failed: ${(error as Error).stack}\n${output.slice(-4000)}\n`);
    throw error;
  }
});

async function setUp(): Promise<void> {
  ns = await createNetns('nlx');
  stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-netlxc-`));
  lxcPath = join(stateDir, 'lxc');
  onCleanup(`state ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  const lxc = (argv: string[]) => netnsRunner(ns.name)([argv[0]!, '-P', lxcPath, ...argv.slice(1)], { allowFailure: true, timeoutMs: 60_000 });
  onCleanup(`containers in ${lxcPath}`, async () => {
    for (const name of await readdir(lxcPath).catch(() => [] as string[])) {
      await lxc(['lxc-stop', '-n', name, '-k']);
      await lxc(['lxc-destroy', '-n', name]);
    }
  });
  const env = {
    ...process.env,
    STATION_STATE_DIR: stateDir,
    STATION_HTTP_HOST: '0.0.0.0',
    STATION_HTTP_PORT: String(port),
    STATION_NAME: 'lab',
    STATION_LXC_PATH: lxcPath,
    STATION_BRIDGE: runName('br'),
    STATION_NODE_SUBNET: `${SUBNET}.0/24`,
    STATION_TEMPLATE_CACHE: '/var/cache/station-test/templates',
    STATION_LOG_LEVEL: 'info',
    STATION_DISABLE: 'mesh,wifi,discovery,indicator',
  };
  const argv = netnsArgv(ns.name, [process.execPath, join(ROOT, 'agent/main.ts')]);
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  onCleanup(`agent pid ${child.pid}`, () => {
    child.kill('SIGKILL');
  });
  await until('agent ready', async () => (await api('/ready').catch(() => null))?.status === 200, 30_000);

  const web = (name: string, policy: unknown, ports = [80]) => ({
    name,
    resources: { memoryMB: 64 },
    network: policy,
    modules: ports.map((p) => ({ name: `web${p}`, run: `exec httpd -f -p ${p} -h /tmp` })),
  });
  // b first, admitting a before a exists: the reference dangles until a is made, then takes effect
  const dangling: Record<string, string[] | undefined> = {};
  for (const [name, policy, ports] of [
    [B, { ingress: [{ from: `node:${A}`, ports: [80] }] }, [80, 81]],
    [A, { egress: [{ to: `node:${B}`, ports: [80] }] }, [80]],
    [C, {}, [80]],
  ] as const) {
    const res = await api('/nodes', { method: 'POST', json: web(name, policy, [...ports]) });
    assert.is(res.status, 201, await res.clone().text());
    const body = (await res.json()) as { address: string; danglingReferences?: string[] };
    addresses.set(name, body.address.split('/')[0]!);
    dangling[name] = body.danglingReferences;
  }
  assert.equal(dangling, { [B]: [`node:${A}`], [A]: [], [C]: [] }, 'b named a before a existed');
  assert.equal(((await (await api(`/nodes/${B}`)).json()) as { danglingReferences?: string[] }).danglingReferences, [], 'once a exists, nothing dangles');
}

const table = async (): Promise<string> =>
  (await exec(['nft', 'list', 'table', 'inet', 'station'], { netns: ns.name })).stdout.replace(/packets \d+ bytes \d+/g, '');

t.after(async () => {
  await cleanupAll();
});

t('node to node: egress and ingress both needed, default deny both ways', async () => {
  await until('a reaches b:80', () => reach(A, addresses.get(B)!, 80));
  await flows([
    ['a -> b:81 (port not allowed)', A, addresses.get(B)!, 81, false],
    ['b -> a:80 (reverse direction)', B, addresses.get(A)!, 80, false],
    ['c -> b:80 (c has no egress)', C, addresses.get(B)!, 80, false],
    ['c -> a:80', C, addresses.get(A)!, 80, false],
  ]);
});

t("a node's status counts what its policy allowed and dropped, both ways", async () => {
  await new Promise((r) => setTimeout(r, 1100)); // counters are read from nft at most once a second
  type Traffic = {
    egress: Record<'allowed' | 'dropped', { packets: number; bytes: number }>;
    ingress: Record<'allowed' | 'dropped', { packets: number; bytes: number }>;
  };
  const traffic = async (name: string) => ((await (await api(`/nodes/${name}`)).json()) as { traffic: Traffic | null }).traffic!;
  const a = await traffic(A);
  assert.ok(a.egress.allowed.packets > 0 && a.egress.allowed.bytes > 0, 'a -> b:80 was allowed');
  assert.ok(a.egress.dropped.packets > 0, 'a -> b:81 was dropped');
  const b = await traffic(B);
  assert.ok(b.ingress.allowed.packets > 0, 'b let a in on 80');
  // c may send nothing: its attempts are dropped at its own egress, before they reach b
  assert.ok((await traffic(C)).egress.dropped.packets > 0, 'c -> b:80 was dropped at c');
});

t("each node's address is bound to its own bridge port (no borrowing a neighbour's rights)", async () => {
  const bound = (await exec(['nft', 'list', 'set', 'bridge', 'station', 'bound'], { netns: ns.name })).stdout;
  for (const name of [A, B, C]) assert.match(bound, `"v-${name}" . ${addresses.get(name)}`);
});

t('nodes cannot reach the admin API unless their policy says so', async () => {
  await flows([['c -> station API', C, GATEWAY, port, false]]);
  const res = await api(`/nodes/${C}`, {
    method: 'PATCH',
    json: {
      network: {
        egress: [
          { to: 'station', ports: [port] },
          { to: `node:${B}`, ports: [80] },
        ],
      },
    },
  });
  assert.is(res.status, 200, await res.clone().text());
  await until('c reaches the station API after the PATCH', () => reach(C, GATEWAY, port));
  await flows([
    ['c -> b:80 (b does not admit c yet)', C, addresses.get(B)!, 80, false],
    ['a -> station API', A, GATEWAY, port, false],
  ]);
});

t('a PATCH on a running node opens a flow without restarting anything', async () => {
  const before = ((await (await api(`/nodes/${B}`)).json()) as { pid: number }).pid;
  const res = await api(`/nodes/${B}`, {
    method: 'PATCH',
    json: {
      network: {
        ingress: [
          { from: `node:${A}`, ports: [80] },
          { from: `node:${C}`, ports: [80] },
        ],
      },
    },
  });
  assert.is(res.status, 200, await res.clone().text());
  await until('c reaches b:80', () => reach(C, addresses.get(B)!, 80));
  await flows([
    ['a -> b:80 still', A, addresses.get(B)!, 80, true],
    ['c -> b:81', C, addresses.get(B)!, 81, false],
  ]);
  const after = ((await (await api(`/nodes/${B}`)).json()) as { pid: number }).pid;
  assert.is(after, before, 'b kept running (same init pid)');
});

t('bad policies: 400 in the error shape, no node made, nothing applied', async () => {
  const before = await table();
  const bad: [string, unknown, RegExp][] = [
    ['not a node name', { egress: [{ to: 'node:Ghost_1' }] }, /not a valid node name/],
    ['bad CIDR', { egress: [{ to: '10.0.0.0/33' }] }, /prefix must be 0 to 32/],
    ['port 0', { ingress: [{ from: 'lan', ports: [0] }] }, /./],
    ['port above 65535', { egress: [{ to: 'internet', ports: [65536] }] }, /./],
    ['unknown keyword', { egress: [{ to: 'anywhere' }] }, /unknown keyword "anywhere"/],
  ];
  const d = `${RUN_PREFIX}d`;
  for (const [what, network, message] of bad) {
    const created = await api('/nodes', { method: 'POST', json: { name: d, network } });
    assert.is(created.status, 400, `${what}: ${await created.clone().text()}`);
    const body = (await created.json()) as { error: { code: string; message: string } };
    assert.ok(typeof body.error.code === 'string' && typeof body.error.message === 'string', what);
    assert.match(body.error.message, message, what);
    const patched = await api(`/nodes/${A}`, { method: 'PATCH', json: { network } });
    assert.is(patched.status, 400, `${what} (PATCH)`);
  }
  const unknown = (await (await api('/nodes', { method: 'POST', json: { name: d, network: { egress: [{ to: 'node:Ghost_1' }] } } })).json()) as {
    error: { code: string };
  };
  assert.is(unknown.error.code, 'INVALID_NETWORK_POLICY');
  assert.is((await api(`/nodes/${d}`)).status, 404, 'no node was made');
  await new Promise((r) => setTimeout(r, 300));
  assert.is(await table(), before, 'the table did not change');
  await flows([['a -> b:80 still', A, addresses.get(B)!, 80, true]]);
});

t('nodes resolve NODE.STATION.<domain> through the station resolver', async () => {
  const res = await api(`/nodes/${C}/exec`, { method: 'POST', json: { command: ['nslookup', `${A}.lab.mesh.internal`] } });
  const out = ((await res.json()) as { stdout: string }).stdout;
  assert.match(out, addresses.get(A)!);
  const aliases = (await (await api('/aliases')).json()) as { records: { name: string; address: string }[] };
  assert.ok(aliases.records.some((r) => r.name === `${B}.lab.mesh.internal` && r.address === addresses.get(B)));
});

t.run();
