// Benchmark of the Network Node, everything inside namespaces made here (removed at the end):
//  1. time to apply a policy change with 100 nodes (NetworkSubsystem.apply: validate, compile,
//     read counters for carrying over, one `nft -f`), median and p90 over many changes; goal <= 200 ms;
//  2. TCP throughput (iperf3) between two nodes on the bridge and from a node to the LAN (routed,
//     masqueraded), with the station's tables (inet + bridge) vs without any, alternating in the same run.
//   node scripts/bench/network.ts        (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CHANGES to tune)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { EventBus } from '../../agent/events.ts';
import type { Config } from '../../agent/config/schema.ts';
import { NetworkSubsystem, type NodeNetworkInput } from '../../agent/network/network-subsystem.ts';
import { compileRuleset } from '../../agent/network/compile-nft.ts';
import { median, percentile, summarise } from './lib/stats.ts';

const PREFIX = `stn${randomBytes(2).toString('hex')}`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 30);
const NODES = 100;
const S = `${PREFIX}s`,
  R = `${PREFIX}r`,
  A = `${PREFIX}a`,
  B = `${PREFIX}b`;
const SUBNET = '198.19.30.0/24';
const addr = (i: number): string => `198.19.30.${10 + i}`;
const children: ChildProcess[] = [];

const inNs = (ns: string, ...argv: string[]) => exec(argv, { netns: ns });

/** Pure: bits per second received, from `iperf3 -J` output. */
export function parseIperf3(json: string): number {
  const doc = JSON.parse(json) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  if (doc.error) throw new Error(`iperf3: ${doc.error}`);
  const bps = doc.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error('iperf3 output has no end.sum_received');
  return bps;
}

function policyOf(i: number, variant = 0): NodeNetworkInput['policy'] {
  const next = `n${(i + 1) % NODES}`;
  const prev = `n${(i + NODES - 1) % NODES}`;
  return {
    egress: [
      { to: `node:${next}`, ports: [5432] },
      { to: 'internet', ports: [443, 8443 + variant] },
      { to: 'lan', ports: [80] },
      { to: '198.18.0.0/16', ports: [53], proto: 'udp' },
    ],
    ingress: [
      { from: `node:${prev}`, ports: [5432] },
      { from: 'lan', ports: [80, 443] },
      { from: 'mesh', ports: [22] },
    ],
    expose: i % 4 === 0 ? [{ port: 10000 + i, to: 80, on: 'lan' }] : [],
  };
}

function nodes(variants: Map<number, number> = new Map()): NodeNetworkInput[] {
  const list: NodeNetworkInput[] = [];
  for (let i = 0; i < NODES; i++) list.push({ name: `n${i}`, address: addr(i), policy: policyOf(i, variants.get(i) ?? 0), port: `${PREFIX}v${i}` });
  // the two traffic nodes: n0 may send to n1 and to the LAN on the iperf port
  list[0]!.policy = {
    egress: [
      { to: 'node:n1', ports: [5201] },
      { to: 'lan', ports: [5201] },
    ],
  };
  list[1]!.policy = { ingress: [{ from: 'node:n0', ports: [5201] }] };
  return list;
}

async function setup(): Promise<void> {
  for (const ns of [S, R, A, B]) {
    await exec(['ip', 'netns', 'add', ns]);
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  await exec(['ip', 'link', 'add', `${PREFIX}l`, 'netns', S, 'type', 'veth', 'peer', 'name', `${PREFIX}lr`, 'netns', R]);
  await inNs(S, 'ip', 'addr', 'add', '198.18.60.2/24', 'dev', `${PREFIX}l`);
  await inNs(R, 'ip', 'addr', 'add', '198.18.60.1/24', 'dev', `${PREFIX}lr`);
  await inNs(S, 'ip', 'link', 'set', `${PREFIX}l`, 'up');
  await inNs(R, 'ip', 'link', 'set', `${PREFIX}lr`, 'up');
  await inNs(S, 'ip', 'route', 'add', 'default', 'via', '198.18.60.1');
  await inNs(R, 'ip', 'route', 'add', SUBNET, 'via', '198.18.60.2');
  await inNs(S, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  await inNs(S, 'ip', 'link', 'add', `${PREFIX}br`, 'type', 'bridge');
  await inNs(S, 'ip', 'addr', 'add', '198.19.30.1/24', 'dev', `${PREFIX}br`);
  await inNs(S, 'ip', 'link', 'set', `${PREFIX}br`, 'up');
  for (const [ns, i] of [
    [A, 0],
    [B, 1],
  ] as const) {
    await exec(['ip', 'link', 'add', `${PREFIX}v${i}`, 'netns', S, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await inNs(S, 'ip', 'link', 'set', `${PREFIX}v${i}`, 'master', `${PREFIX}br`, 'up');
    await inNs(ns, 'ip', 'addr', 'add', `${addr(i)}/24`, 'dev', 'eth0');
    await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    await inNs(ns, 'ip', 'route', 'add', 'default', 'via', '198.19.30.1');
  }
}

async function teardown(): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of [S, R, A, B]) {
    const pids = (await exec(['ip', 'netns', 'pids', ns], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids)
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    await exec(['ip', 'netns', 'del', ns], { allowFailure: true });
  }
}

async function iperf(from: string, to: string): Promise<number> {
  const r = await exec(['iperf3', '-c', to, '-t', String(SECONDS), '-J'], { netns: from, timeoutMs: (SECONDS + 20) * 1000 });
  return parseIperf3(r.stdout);
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), `${PREFIX}-bench-`));
  try {
    await setup();
    const config = {
      stateDir,
      bridge: `${PREFIX}br`,
      nodeSubnet: SUBNET,
      name: 'bench',
      domain: 'mesh.internal',
      httpPort: 8088,
    } as Config;
    const net = new NetworkSubsystem({
      config,
      run: (argv, o) => exec(argv, { ...o, netns: S }),
      netns: S,
      events: new EventBus(),
      log: pino({ level: 'warn' }),
    });
    await net.start();
    await net.apply(nodes());

    // 1. apply time of a policy change (one node's policy differs each time)
    const applyMs: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const t = performance.now();
      const result = await net.apply(nodes(new Map([[2 + (k % 90), 1 + k]])));
      applyMs.push(performance.now() - t);
      if (!result.changed) throw new Error('a change was not applied');
    }
    const compileMs: number[] = [];
    const facts = net.facts();
    for (let k = 0; k < CHANGES; k++) {
      const t = performance.now();
      compileRuleset({ facts, nodes: nodes(new Map([[5, k]])).map((n) => ({ ...n, policy: n.policy as never })) });
      compileMs.push(performance.now() - t);
    }
    const text = compileRuleset({ facts, nodes: nodes().map((n) => ({ ...n, policy: n.policy as never })) }).text;
    const nftMs: number[] = [];
    for (let k = 0; k < 10; k++) {
      const t = performance.now();
      await exec(['nft', '-f', '-'], { netns: S, input: text });
      nftMs.push(performance.now() - t);
    }
    const rules = text.split('\n').filter((l) => l.startsWith('\t\t') && !l.includes('type ') && !l.trim().startsWith('#')).length;

    // 2. throughput with the table vs without any table, alternating
    const server = (ns: string) => {
      const c = spawn('ip', ['netns', 'exec', ns, 'iperf3', '-s'], { stdio: 'ignore' });
      children.push(c);
    };
    server(B);
    server(R);
    await new Promise((r) => setTimeout(r, 500));
    const runs = {
      bridgedFiltered: [] as number[],
      bridgedBare: [] as number[],
      routedFiltered: [] as number[],
      routedBare: [] as number[],
    };
    for (let round = 0; round < ROUNDS; round++) {
      await net.apply(nodes(new Map([[3, round + 100]])));
      runs.bridgedFiltered.push(await iperf(A, addr(1)));
      runs.routedFiltered.push(await iperf(A, '198.18.60.1'));
      await exec(['nft', 'delete', 'table', 'inet', 'station'], { netns: S });
      await exec(['nft', 'delete', 'table', 'bridge', 'station'], { netns: S });
      runs.bridgedBare.push(await iperf(A, addr(1)));
      runs.routedBare.push(await iperf(A, '198.18.60.1'));
    }
    await net.stop();
    const gbit = (v: number[]) => summarise(v.map((x) => x / 1e9));
    const summary = {
      benchmark: 'network',
      nodes: NODES,
      rulesInTable: rules,
      applyPolicyChangeMs: { ...summarise(applyMs), p90: Number(percentile(applyMs, 90).toFixed(2)), goal: 200 },
      compileOnlyMs: summarise(compileMs),
      nftLoadOnlyMs: summarise(nftMs),
      throughputGbit: {
        bridgedNodeToNode: {
          filtered: gbit(runs.bridgedFiltered),
          withoutTable: gbit(runs.bridgedBare),
          ratio: Number((median(runs.bridgedFiltered) / median(runs.bridgedBare)).toFixed(3)),
        },
        routedNodeToLan: {
          filtered: gbit(runs.routedFiltered),
          withoutTable: gbit(runs.routedBare),
          ratio: Number((median(runs.routedFiltered) / median(runs.routedBare)).toFixed(3)),
        },
      },
      rounds: ROUNDS,
      secondsPerRun: SECONDS,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await teardown();
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
