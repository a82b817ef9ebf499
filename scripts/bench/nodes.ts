// Benchmark: Disposable Nodes through the agent.
//  1. busybox create+start to RUNNING through the agent (POST /nodes) vs raw lxc-create -t busybox +
//     lxc-start + lxc-wait in the same run (median of several, ratio; goal <= 1.3);
//  2. debian create from the template cache to RUNNING (goal <= 3 s), and to systemd up;
//  3. GET /nodes latency with 50 nodes (p99; goal <= 50 ms).
// Everything runs inside a network namespace made here (the agent too, through nsenter with the
// cgroup mounts kept), in temp directories; all of it is removed at the end, also on failure.
//   node scripts/bench/nodes.ts      (BENCH_ROUNDS=7 BENCH_NODES=50 BENCH_DEBIAN_ROUNDS=3)
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { exec } from '../../agent/exec.ts';
import { removeNetns } from '../lib/netns.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { startBenchAgent } from './lib/agent.ts';
import { runBench } from './lib/run.ts';
import { median, percentile, summarise } from './lib/stats.ts';

const ID = randomBytes(2).toString('hex');
const NS = `stbn${ID}`;
const BRIDGE = `stbn${ID}br`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const DEBIAN_ROUNDS = Number(process.env.BENCH_DEBIAN_ROUNDS ?? 3);
const NODES = Number(process.env.BENCH_NODES ?? 50);
const LIST_REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 300);
const TEMPLATE_CACHE = process.env.STATION_TEMPLATE_CACHE ?? '/var/cache/station-test/templates';
const PORT = 30000 + Math.floor(Math.random() * 20000);
const BASE = `http://127.0.0.1:${PORT}/api/v1`;

const run = netnsRunner(NS);
let agent: ChildProcess | undefined;
let stateDir = '';
let rawPath = '';
let token = '';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function setUp(): Promise<void> {
  await exec(['ip', 'netns', 'add', NS]);
  await exec(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  stateDir = await mkdtemp(join(tmpdir(), `stbn${ID}-state-`));
  rawPath = await mkdtemp(join(tmpdir(), `stbn${ID}-raw-`));
  agent = await startBenchAgent(NS, PORT, {
    STATION_STATE_DIR: stateDir,
    STATION_BRIDGE: BRIDGE,
    STATION_NODE_SUBNET: '198.18.60.0/24',
    STATION_TEMPLATE_CACHE: TEMPLATE_CACHE,
    STATION_DISABLE: 'mesh,wifi,discovery,indicator',
  });
  token = (await readFile(join(stateDir, 'admin-token'), 'utf8')).trim();
}

async function tearDown(): Promise<void> {
  // Nodes first (through the agent), then anything left in either lxcpath, then the namespace.
  if (agent && agent.exitCode === null) {
    const { stdout } = await curl('GET', '/nodes').catch(() => ({ stdout: '{"nodes":[]}' }));
    for (const n of (JSON.parse(stdout) as { nodes: { name: string }[] }).nodes ?? []) await curl('DELETE', `/nodes/${n.name}?volumes=delete`).catch(() => {});
    agent.kill('SIGTERM');
    await new Promise((r) => agent!.once('exit', r));
  }
  for (const path of [stateDir && join(stateDir, 'lxc'), rawPath].filter(Boolean)) {
    for (const name of await readdir(path).catch(() => [] as string[])) {
      await run(['lxc-stop', '-P', path, '-n', name, '-k'], { allowFailure: true }).catch(() => {});
      await run(['lxc-destroy', '-P', path, '-n', name], { allowFailure: true }).catch(() => {});
    }
  }
  await removeNetns(NS);
  for (const dir of [stateDir, rawPath]) if (dir) await rm(dir, { recursive: true, force: true });
}

/** One request from inside the namespace; `ms` is curl's own time_total (no process start-up in it). */
async function curl(method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; stdout: string }> {
  const out = await exec(
    [
      'curl',
      '-sS',
      '-X',
      method,
      '-H',
      `authorization: Bearer ${token}`,
      ...(body === undefined ? [] : ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)]),
      '-w',
      '\n%{http_code} %{time_total}',
      `${BASE}${path}`,
    ],
    { netns: NS, timeoutMs: 600_000 },
  );
  const lines = out.stdout.trimEnd().split('\n');
  const [status, seconds] = lines.pop()!.split(' ');
  const stdout = lines.join('\n');
  if (Number(status) >= 400) throw new Error(`${method} ${path}: HTTP ${status} ${stdout}`);
  return { status: Number(status), ms: Number(seconds) * 1000, stdout };
}

/** Raw LXC: lxc-create -t busybox + lxc-start -d + lxc-wait RUNNING, timed inside the namespace. */
async function rawCreateStart(name: string): Promise<number> {
  const config = join(rawPath, 'net.conf');
  await writeFile(config, `lxc.net.0.type = veth\nlxc.net.0.link = ${BRIDGE}\nlxc.net.0.flags = up\n`);
  const script =
    `s=$(date +%s%N); lxc-create -P ${rawPath} -n ${name} -f ${config} -t busybox >/dev/null && lxc-start -P ${rawPath} -n ${name} -d && ` +
    `lxc-wait -P ${rawPath} -n ${name} -s RUNNING -t 30 && e=$(date +%s%N) && echo $(( (e - s) / 1000 ))`;
  const out = await run(['sh', '-c', script], { timeoutMs: 120_000 });
  return Number(out.stdout.trim()) / 1000;
}

async function rawRemove(name: string): Promise<void> {
  await run(['lxc-stop', '-P', rawPath, '-n', name, '-k'], { allowFailure: true });
  await run(['lxc-destroy', '-P', rawPath, '-n', name], { allowFailure: true });
}

async function main(): Promise<void> {
  await setUp();
  // warm-up: template caches (agent's busybox template, the host's busybox binary) and the code paths
  await curl('POST', '/nodes', { name: 'warm' });
  await curl('DELETE', '/nodes/warm?volumes=delete');
  await rawCreateStart('warm');
  await rawRemove('warm');

  const agentMs: number[] = [];
  const rawMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = await curl('POST', '/nodes', { name: `bb${i}` });
    agentMs.push(a.ms);
    await curl('DELETE', `/nodes/bb${i}?volumes=delete`);
    rawMs.push(await rawCreateStart(`raw${i}`));
    await rawRemove(`raw${i}`);
    log(`busybox round ${i + 1}: agent ${a.ms.toFixed(0)} ms, raw ${rawMs.at(-1)!.toFixed(0)} ms`);
  }

  const debianMs: number[] = [];
  const debianBootMs: number[] = [];
  for (let i = 0; i < DEBIAN_ROUNDS; i++) {
    const t0 = Date.now();
    const d = await curl('POST', '/nodes', { name: `deb${i}`, template: 'debian' });
    debianMs.push(d.ms);
    // then until systemd inside reports the boot finished (running, or degraded: some unit failed)
    for (;;) {
      const r = await curl('POST', `/nodes/deb${i}/exec`, { command: ['systemctl', 'is-system-running'] });
      if (/"stdout":"(running|degraded)/.test(r.stdout)) break;
      if (Date.now() - t0 > 60_000) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    debianBootMs.push(Date.now() - t0);
    await curl('DELETE', `/nodes/deb${i}?volumes=delete`);
    log(`debian round ${i + 1}: running in ${d.ms.toFixed(0)} ms, systemd up after ${debianBootMs.at(-1)} ms`);
  }

  const t0 = Date.now();
  for (let i = 0; i < NODES; i++) await curl('POST', '/nodes', { name: `n${i}`, labels: { bench: 'list' } });
  log(`${NODES} busybox nodes created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, 1000)); // let the reconcile pass the creates triggered finish
  // one curl process, many requests on one connection: each line is one request's time_total
  const urls = Array.from({ length: LIST_REQUESTS }, () => ['-o', '/dev/null', `${BASE}/nodes`]).flat();
  const out = await exec(['curl', '-s', '-w', '%{http_code} %{time_total}\n', ...urls], { netns: NS, timeoutMs: 120_000 });
  const samples = out.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  if (samples.some(([code]) => code !== '200')) throw new Error('a list request failed');
  const listMs = samples.map(([, s]) => Number(s) * 1000);
  log(
    `list: slowest ${[...listMs]
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map((v) => v.toFixed(1))
      .join(', ')} ms`,
  );
  const listed = JSON.parse((await curl('GET', '/nodes')).stdout) as { nodes: unknown[] };

  const ratio = median(agentMs) / median(rawMs);
  const summary = {
    busybox: {
      agentMs: summarise(agentMs),
      rawLxcMs: summarise(rawMs),
      ratio: Number(ratio.toFixed(2)),
      goal: '<= 1.3',
      met: ratio <= 1.3,
    },
    debianFromCache: {
      toRunningMs: summarise(debianMs),
      toSystemdUpMs: summarise(debianBootMs),
      goal: '<= 3000 ms to running',
      met: median(debianMs) <= 3000,
    },
    list: {
      nodes: listed.nodes.length,
      requests: listMs.length,
      p50Ms: Number(percentile(listMs, 50).toFixed(2)),
      p99Ms: Number(percentile(listMs, 99).toFixed(2)),
      goal: 'p99 <= 50 ms',
      met: percentile(listMs, 99) <= 50,
    },
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

await runBench('bench', main, tearDown);
