// Benchmark of the Virtual Private Mesh in the testbed (real agents and Nebula in namespaces behind
// simulated home NATs; everything removed at the end, also on failure or Ctrl-C):
//  1. time from `join` to all-pairs reachability: with the authority up, N-1 stations join at once
//     (POST /mesh/join on each), then every ordered pair pings over the mesh until all answer;
//     for N = 3 and N = 10, median over BENCH_ROUNDS fresh testbeds; goal <= 5 s at N = 10.
//     Baseline in the same run: one all-pairs ping round once the mesh is up (what the check itself costs).
//  2. memory per station: agent RSS + Nebula RSS (/proc/PID/status VmRSS), median over the stations.
//   node scripts/bench/mesh.ts        (BENCH_ROUNDS, BENCH_SIZES=3,10 to tune)
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createMesh, down, invite, meshPingMany, stationApi, up, type StationRecord, type Testbed } from '../testbed-lib/index.ts';
import { median, summarise } from './lib/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? '3,10').split(',').map(Number);
const GOAL_MS = 5000;
let current: string | undefined;

const rssKb = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** Pings every ordered pair not yet reached, in parallel rounds (one per station), until all answer; returns ms. */
async function allPairs(stations: StationRecord[], addr: Map<string, string>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  let pending = stations.flatMap((a) => stations.filter((b) => b !== a).map((b) => [a, b] as const));
  while (pending.length) {
    const answered = new Map(
      await Promise.all(
        stations.map(async (a) => {
          const targets = pending.filter(([from]) => from === a).map(([, b]) => addr.get(b.name)!);
          return [a.name, targets.length ? await meshPingMany(a, targets, 1) : new Set<string>()] as const;
        }),
      ),
    );
    pending = pending.filter(([a, b]) => !answered.get(a.name)!.has(addr.get(b.name)!));
    if (performance.now() - start > timeoutMs)
      throw new Error(`${pending.length} pairs still unreachable after ${timeoutMs} ms: ${pending.map(([a, b]) => `${a.name}->${b.name}`).join(' ')}`);
  }
  return performance.now() - start;
}

async function round(
  n: number,
): Promise<{ joinToAllPairsMs: number; joinCallMs: number; baselineRoundMs: number; agentRssKb: number[]; nebulaRssKb: number[] }> {
  const prefix = `stbm${randomBytes(2).toString('hex')}`;
  current = prefix;
  try {
    const tb: Testbed = await up({ prefix, stations: n });
    const [first, ...rest] = tb.stations;
    const addr = new Map<string, string>([[first!.name, await createMesh(tb, first!.name, 'bench')]]);
    const codes = await Promise.all(rest.map(() => invite(tb, first!.name)));
    const start = performance.now();
    const joined = await Promise.all(
      rest.map(async (st, i) => {
        const r = await stationApi<{ address: string }>(st, 'POST', '/mesh/join', { code: codes[i] });
        if (r.status !== 200) throw new Error(`join ${st.name}: ${JSON.stringify(r.body)}`);
        addr.set(st.name, r.body.address);
        return performance.now() - start;
      }),
    );
    await allPairs(tb.stations, addr, 60_000);
    const joinToAllPairsMs = performance.now() - start;
    const baselineRoundMs = await allPairs(tb.stations, addr, 10_000);
    const agentRssKb: number[] = [];
    const nebulaRssKb: number[] = [];
    for (const st of tb.stations) {
      const info = (await stationApi<{ nebula: { pid: number } }>(st, 'GET', '/mesh')).body;
      agentRssKb.push(rssKb(st.pid));
      nebulaRssKb.push(rssKb(info.nebula.pid));
    }
    return { joinToAllPairsMs, joinCallMs: median(joined), baselineRoundMs, agentRssKb, nebulaRssKb };
  } finally {
    // BENCH_KEEP=1 leaves the testbed for a look (scripts/testbed status|down --prefix PREFIX).
    if (process.env.BENCH_KEEP) process.stderr.write(`kept testbed ${prefix}\n`);
    else await down(prefix);
    current = undefined;
  }
}

process.once('SIGINT', () => void (current ? down(current) : Promise.resolve()).finally(() => process.exit(130)));

const results: Record<string, unknown> = {};
for (const n of SIZES) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round(n);
    process.stderr.write(
      `N=${n} round ${r + 1}: join -> all pairs ${res.joinToAllPairsMs.toFixed(0)} ms (join calls ${res.joinCallMs.toFixed(0)} ms, baseline ping round ` +
        `${res.baselineRoundMs.toFixed(0)} ms)\n`,
    );
    rounds.push(res);
  }
  const convergence = summarise(rounds.map((r) => r.joinToAllPairsMs));
  const baseline = summarise(rounds.map((r) => r.baselineRoundMs));
  const agentMb = median(rounds.flatMap((r) => r.agentRssKb)) / 1024;
  const nebulaMb = median(rounds.flatMap((r) => r.nebulaRssKb)) / 1024;
  results[`n${n}`] = {
    stations: n,
    pairs: n * (n - 1),
    joinToAllPairsMs: convergence,
    joinCallMs: summarise(rounds.map((r) => r.joinCallMs)),
    baselineAllPairsRoundMs: baseline,
    ratioToBaseline: Number((convergence.median / baseline.median).toFixed(2)),
    memoryPerStationMb: {
      agentRss: Number(agentMb.toFixed(1)),
      nebulaRss: Number(nebulaMb.toFixed(1)),
      total: Number((agentMb + nebulaMb).toFixed(1)),
    },
    ...(n === 10 ? { goalMs: GOAL_MS, meetsGoal: convergence.median <= GOAL_MS } : {}),
  };
}
process.stdout.write(`${JSON.stringify({ bench: 'mesh', rounds: ROUNDS, results }, null, 2)}\n`);
