// Dynamic Alias across three stations. Each station is a namespace running the station's naming
// side (the real NetworkSubsystem: nft table, dnsmasq, alias registry and pull exchange, and the
// real GET /api/v1/aliases route) with a client "node" namespace on its bridge that asks the
// station's resolver, as nodes do. The stations reach each other over a shared LAN namespace
// standing in for the mesh (the mesh code will call setAliasPeers with its peers' mesh addresses).
// A fourth peer, s8 of another owner, publishes forged records (issue 11, finding 8).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { exec } from '../../agent/exec.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HARNESS = new URL('../fixtures/network/alias-station.ts', import.meta.url).pathname;
const PORT = 8088;

interface Station {
  name: string;
  ns: Netns;
  client: Netns;
  lanAddress: string;
  subnet: number;
  child: ChildProcess;
  lines: Interface;
  send(cmd: unknown): Promise<void>;
}
const stations: Station[] = [];

async function makeStation(index: number, lan: Netns, lanBridge: string): Promise<Station> {
  const name = `s${index}`;
  const ns = await createNetns(`a${index}`);
  const client = await createNetns(`c${index}`);
  const lanAddress = `198.18.50.${index}`;
  const up = runName(`u${index}`);
  await exec(['ip', 'link', 'add', up, 'netns', ns.name, 'type', 'veth', 'peer', 'name', `${up}p`, 'netns', lan.name]);
  await exec(['ip', '-n', lan.name, 'link', 'set', `${up}p`, 'master', lanBridge, 'up']);
  await exec(['ip', '-n', ns.name, 'addr', 'add', `${lanAddress}/24`, 'dev', up]);
  await exec(['ip', '-n', ns.name, 'link', 'set', up, 'up']);
  const bridge = runName(`b${index}`);
  await exec(['ip', '-n', ns.name, 'link', 'add', bridge, 'type', 'bridge']);
  await exec(['ip', '-n', ns.name, 'addr', 'add', `198.19.1${index}.1/24`, 'dev', bridge]);
  await exec(['ip', '-n', ns.name, 'link', 'set', bridge, 'up']);
  const veth = runName(`v${index}`);
  await exec(['ip', 'link', 'add', veth, 'netns', ns.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name]);
  await exec(['ip', '-n', ns.name, 'link', 'set', veth, 'master', bridge, 'up']);
  await exec(['ip', '-n', client.name, 'addr', 'add', `198.19.1${index}.99/24`, 'dev', 'eth0']);
  await exec(['ip', '-n', client.name, 'link', 'set', 'eth0', 'up']);
  const stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-alias-${name}-`));
  onCleanup(`state ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, HARNESS, name, bridge, `198.19.1${index}.0/24`, lanAddress, String(PORT), stateDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  onCleanup(`alias station ${name} pid ${child.pid}`, () => {
    child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(l))));
    child.once('exit', (code) => reject(new Error(`station ${name} exited ${code}`)));
  });
  const send = (cmd: unknown): Promise<void> =>
    new Promise((resolve, reject) => {
      lines.once('line', (l) => {
        const r = JSON.parse(l) as { error?: string };
        r.error ? reject(new Error(r.error)) : resolve();
      });
      child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
  return { name, ns, client, lanAddress, subnet: index, child, lines, send };
}

const ROGUE_ADDRESS = '198.18.50.8';
const FAR_FUTURE = 8_000_000_000_000_000;
/** What s8 (owner mallory) answers: another station's node name and alice's alias, "from the future", and one name of its own. */
const ROGUE_RECORDS = [
  { name: 'web.s1.mesh.internal', address: '198.19.99.99', node: 'web', kind: 'node', since: FAR_FUTURE },
  { name: 'www.alice.mesh.internal', address: '198.19.99.99', node: 'web', kind: 'alias', since: FAR_FUTURE },
  { name: 'evil.s8.mesh.internal', address: '198.19.99.98', node: 'evil', kind: 'node', since: 1 },
];

/** A peer station that lies: a plain HTTP server on the LAN answering the alias pull with ROGUE_RECORDS. */
async function makeRogue(lan: Netns, lanBridge: string): Promise<void> {
  const ns = await createNetns('a8');
  const up = runName('u8');
  await exec(['ip', 'link', 'add', up, 'netns', ns.name, 'type', 'veth', 'peer', 'name', `${up}p`, 'netns', lan.name]);
  await exec(['ip', '-n', lan.name, 'link', 'set', `${up}p`, 'master', lanBridge, 'up']);
  await exec(['ip', '-n', ns.name, 'addr', 'add', `${ROGUE_ADDRESS}/24`, 'dev', up]);
  await exec(['ip', '-n', ns.name, 'link', 'set', up, 'up']);
  const body = JSON.stringify({ station: 's8', records: ROGUE_RECORDS });
  const script =
    `require('node:http').createServer((q, r) => { r.setHeader('content-type', 'application/json'); r.end(${JSON.stringify(body)}); ` +
    `}).listen(${PORT}, '${ROGUE_ADDRESS}', () => console.log('ready'));`;
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(`rogue peer pid ${child.pid}`, () => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(l))));
    child.once('exit', (code) => reject(new Error(`rogue peer exited ${code}`)));
  });
}

/** What a node on this station gets for a name from its resolver (the gateway): an address or null. */
async function lookup(s: Station, name: string): Promise<string | null> {
  const r = await exec(['busybox', 'nslookup', name, `198.19.1${s.subnet}.1`], {
    netns: s.client.name,
    allowFailure: true,
    timeoutMs: 5000,
  });
  const m = /Name:\s+\S+\s+Address:\s+(\d+\.\d+\.\d+\.\d+)/.exec(r.stdout);
  return m ? m[1]! : null;
}

/** ms until every station answers `name` with `address` (null: NXDOMAIN); throws after 10 s. */
async function untilAll(name: string, address: string | null): Promise<number> {
  const start = Date.now();
  for (;;) {
    const answers = await Promise.all(stations.map((s) => lookup(s, name)));
    if (answers.every((a) => a === address)) return Date.now() - start;
    if (Date.now() - start > 10_000) throw new Error(`${name}: ${JSON.stringify(answers)} after 10 s, wanted ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.before(async () => {
  const lan = await createNetns('lan');
  const lanBridge = runName('lb');
  await exec(['ip', '-n', lan.name, 'link', 'add', lanBridge, 'type', 'bridge']);
  await exec(['ip', '-n', lan.name, 'link', 'set', lanBridge, 'up']);
  for (const i of [1, 2, 3]) stations.push(await makeStation(i, lan, lanBridge));
  await makeRogue(lan, lanBridge);
  for (const s of stations) {
    await s.send({ mesh: { meshSubnets: [], owner: 'alice' } });
    // plus a peer that never answers (a station that went away): it must not hold back the others
    const dead = { station: 's9', url: `http://198.18.50.9:${PORT}`, owner: 'alice' };
    const rogue = { station: 's8', url: `http://${ROGUE_ADDRESS}:${PORT}`, owner: 'mallory' };
    await s.send({
      peers: [...stations.filter((o) => o !== s).map((o) => ({ station: o.name, url: `http://${o.lanAddress}:${PORT}`, owner: 'alice' })), dead, rogue],
    });
  }
});

test.after(async () => {
  for (const s of stations) s.child.kill('SIGKILL');
  await cleanupAll();
});

test('node names and aliases resolve on every station', async () => {
  await stations[0]!.send({ apply: [{ name: 'web', address: '198.19.11.10', policy: { aliases: ['www'] } }] });
  await stations[1]!.send({ apply: [{ name: 'db', address: '198.19.12.20', policy: {} }] });
  await untilAll('web.s1.mesh.internal', '198.19.11.10');
  await untilAll('www.alice.mesh.internal', '198.19.11.10');
  await untilAll('db.s2.mesh.internal', '198.19.12.20');
  assert.is(await lookup(stations[2]!, 'nothing.s1.mesh.internal'), null);
});

test("a peer publishing another station's node name or another owner's alias moves neither", async () => {
  await untilAll('evil.s8.mesh.internal', '198.19.99.98'); // its own name: its records are pulled
  for (const s of stations) {
    assert.is(await lookup(s, 'web.s1.mesh.internal'), '198.19.11.10', `${s.name}: web.s1 stays on s1`);
    assert.is(await lookup(s, 'www.alice.mesh.internal'), '198.19.11.10', `${s.name}: alice's alias stays with alice's node`);
  }
});

test('GET /api/v1/aliases lists names -> addresses -> stations', async () => {
  const r = await exec(['curl', '-sf', `http://${stations[2]!.lanAddress}:${PORT}/api/v1/aliases`], { netns: stations[2]!.ns.name });
  const body = JSON.parse(r.stdout) as {
    station: string;
    resolver: string | null;
    records: { name: string; address: string; station: string; local: boolean }[];
  };
  assert.is(body.station, 's3');
  assert.is(body.resolver, '198.19.13.1');
  const www = body.records.find((x) => x.name === 'www.alice.mesh.internal');
  assert.equal(www && { address: www.address, station: www.station, local: www.local }, {
    address: '198.19.11.10',
    station: 's1',
    local: false,
  });
  const local = JSON.parse(
    (await exec(['curl', '-sf', `http://${stations[0]!.lanAddress}:${PORT}/api/v1/aliases?scope=local`], { netns: stations[0]!.ns.name })).stdout,
  ) as { records: { station: string }[] };
  assert.ok(local.records.length === 2 && local.records.every((x) => x.station === 's1'));
  const bad = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${stations[0]!.lanAddress}:${PORT}/api/v1/aliases?scope=nope`], {
    netns: stations[0]!.ns.name,
  });
  assert.is(bad.stdout, '400');
});

test('a node that moves is answered at its new place by every station within 5 s', async () => {
  await stations[0]!.send({ apply: [] });
  await stations[1]!.send({
    apply: [
      { name: 'db', address: '198.19.12.20', policy: {} },
      { name: 'web', address: '198.19.12.10', policy: { aliases: ['www'] } },
    ],
  });
  const ms = await untilAll('www.alice.mesh.internal', '198.19.12.10');
  process.stdout.write(`  alias move seen by all 3 stations in ${ms} ms\n`);
  assert.ok(ms < 5000, `took ${ms} ms`);
  await untilAll('web.s2.mesh.internal', '198.19.12.10');
  await untilAll('web.s1.mesh.internal', null);
});

test('a replica that becomes Active takes the alias everywhere within 5 s (newest claim wins)', async () => {
  await stations[2]!.send({ apply: [{ name: 'web', address: '198.19.13.10', policy: { aliases: ['www'] } }] });
  const ms = await untilAll('www.alice.mesh.internal', '198.19.13.10');
  process.stdout.write(`  replica activation seen by all 3 stations in ${ms} ms\n`);
  assert.ok(ms < 5000, `took ${ms} ms`);
});

test('the resolver goes with its station: killing the station process ends its dnsmasq', async () => {
  const s = stations[2]!;
  const pids = async () => (await exec(['ip', 'netns', 'pids', s.ns.name])).stdout.split(/\s+/).filter(Boolean);
  const dnsmasq = [];
  for (const pid of await pids()) if ((await exec(['cat', `/proc/${pid}/comm`], { allowFailure: true })).stdout.trim() === 'dnsmasq') dnsmasq.push(pid);
  assert.is(dnsmasq.length, 1);
  s.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const left = await pids();
  assert.not.ok(left.includes(dnsmasq[0]!), 'dnsmasq ended with its parent');
});

test.run();
