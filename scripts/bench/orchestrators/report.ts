// The orchestrators benchmark's summary (medians, min–max, ratios against the same run's
// baselines) and its human table.
import { median, summarise } from '../lib/stats.ts';
import { alignedTable } from '../lib/table.ts';
import type { BaselineRound, ClusterRound } from './formation.ts';
import type { LatencyResult, Target } from './latency.ts';

type Figure = ReturnType<typeof summarise>;

export interface Summary {
  bench: 'orchestrators';
  rounds: number;
  clusterReadySeconds: Figure;
  clusterPostSeconds: Figure;
  baselineEngineSeconds: Figure;
  baselineEngineExecSeconds: Figure;
  baselineClusterOfOneSeconds: Figure;
  baselinePostSeconds: Figure;
  /** from the slowest POST's answer (the nodes made, docker.io installed) to the cluster of three ready; the same for one node's cluster of one */
  clusterAfterPostSeconds: Figure;
  baselineAfterPostSeconds: Figure;
  ratioAfterPost: number;
  /** cluster of three ready ÷ one node's engine ready, and ÷ one node's cluster of one ready (medians) */
  ratioClusterToEngine: number;
  ratioClusterToClusterOfOne: number;
  latency: {
    requests: number;
    batches: number;
    tasks: Record<string, string>;
    /** per request (ms): the median of all requests, min–max of the batches' medians */
    perRequestMs: Record<Target, { median: number; min: number; max: number }>;
    ratioRemoteToLocal: number;
    /** what crossing the mesh adds to a request: remote − local medians (ms) */
    remoteMinusLocalMs: number;
    ratioLocalToLoopback: number;
    meshPingMs: Figure;
    peerLatencyMs: Figure | null;
    peerVia: string | null;
  };
  loadAverage: string;
  seconds: number;
}

const round3 = (v: number) => Number(v.toFixed(3));

function perRequest(batches: number[][]) {
  const ms = (us: number) => round3(us / 1000);
  const medians = batches.map(median);
  return { median: ms(median(batches.flat())), min: ms(Math.min(...medians)), max: ms(Math.max(...medians)) };
}

export function summary(clusters: ClusterRound[], baselines: BaselineRound[], latency: LatencyResult, loadAverage: string, seconds: number): Summary {
  const ready = summarise(clusters.map((c) => c.ready));
  const engine = summarise(baselines.map((b) => b.engine));
  const one = summarise(baselines.map((b) => b.clusterOfOne));
  const afterPost = summarise(clusters.map((c) => c.ready - Math.max(...Object.values(c.posted))));
  const oneAfterPost = summarise(baselines.map((b) => b.clusterOfOne - b.posted));
  const requests = {
    loopback: perRequest(latency.samples.loopback),
    local: perRequest(latency.samples.local),
    remote: perRequest(latency.samples.remote),
  };
  return {
    bench: 'orchestrators',
    rounds: clusters.length,
    clusterReadySeconds: ready,
    clusterPostSeconds: summarise(clusters.map((c) => Math.max(...Object.values(c.posted)))),
    baselineEngineSeconds: engine,
    baselineEngineExecSeconds: summarise(baselines.map((b) => b.engineExec)),
    baselineClusterOfOneSeconds: one,
    baselinePostSeconds: summarise(baselines.map((b) => b.posted)),
    clusterAfterPostSeconds: afterPost,
    baselineAfterPostSeconds: oneAfterPost,
    ratioAfterPost: Number((afterPost.median / oneAfterPost.median).toFixed(2)),
    ratioClusterToEngine: Number((ready.median / engine.median).toFixed(2)),
    ratioClusterToClusterOfOne: Number((ready.median / one.median).toFixed(2)),
    latency: {
      requests: latency.requests,
      batches: latency.batches,
      tasks: latency.tasks,
      perRequestMs: requests,
      ratioRemoteToLocal: Number((requests.remote.median / requests.local.median).toFixed(2)),
      remoteMinusLocalMs: round3(requests.remote.median - requests.local.median),
      ratioLocalToLoopback: Number((requests.local.median / requests.loopback.median).toFixed(2)),
      meshPingMs: summarise(latency.meshPingMs),
      peerLatencyMs: latency.peerLatencyMs.length ? summarise(latency.peerLatencyMs) : null,
      peerVia: latency.peerVia,
    },
    loadAverage,
    seconds: Math.round(seconds),
  };
}

const s = (f: Figure) => `${f.median.toFixed(1)} s (${f.min.toFixed(1)}–${f.max.toFixed(1)})`;
const ms = (f: { median: number; min: number; max: number }) => `${f.median.toFixed(3)} ms (${f.min.toFixed(3)}–${f.max.toFixed(3)})`;

export function table(x: Summary): string {
  const l = x.latency;
  const rows = [
    ['measure', 'median (min–max)', 'baseline (same run)', 'ratio'],
    [
      `declare → one healthy cluster of 3 managers (3 stations at once, ${x.rounds} rounds)`,
      s(x.clusterReadySeconds),
      `one node alone, declare → dockerd answers (agent's report): ${s(x.baselineEngineSeconds)}`,
      `${x.ratioClusterToEngine}×`,
    ],
    ['', '', `one node alone, declare → healthy cluster of one: ${s(x.baselineClusterOfOneSeconds)}`, `${x.ratioClusterToClusterOfOne}×`],
    ['', '', `one node alone, declare → \`docker version\` answers (exec, polled 1 s): ${s(x.baselineEngineExecSeconds)}`, ''],
    ['POST /nodes answered (the slowest of the 3)', s(x.clusterPostSeconds), `one node alone: ${s(x.baselinePostSeconds)}`, ''],
    [
      'from the slowest POST answered → healthy cluster of 3',
      s(x.clusterAfterPostSeconds),
      `one node alone, POST answered → healthy cluster of one: ${s(x.baselineAfterPostSeconds)}`,
      `${x.ratioAfterPost}×`,
    ],
    [
      `HTTP request over the overlay, s1 → task on s2 (across the mesh; ${l.batches}×${l.requests})`,
      ms(l.perRequestMs.remote),
      `s1 → task on s1 (same station): ${ms(l.perRequestMs.local)}`,
      `${l.ratioRemoteToLocal}× (${l.remoteMinusLocalMs >= 0 ? '+' : ''}${l.remoteMinusLocalMs.toFixed(3)} ms)`,
    ],
    ['', '', `container's own loopback (no network): ${ms(l.perRequestMs.loopback)}`, `local ${l.ratioLocalToLoopback}×`],
    [
      `mesh round trip s1 → s2 (ping from s1's namespace${l.peerVia ? `, via ${l.peerVia}` : ', direct'})`,
      `${l.meshPingMs.median.toFixed(2)} ms (${l.meshPingMs.min.toFixed(2)}–${l.meshPingMs.max.toFixed(2)})`,
      l.peerLatencyMs ? `s1's GET /mesh/peers latencyMs: ${l.peerLatencyMs.median} ms (${l.peerLatencyMs.min}–${l.peerLatencyMs.max})` : '',
      '',
    ],
  ];
  return [alignedTable(rows), `tasks: ${JSON.stringify(l.tasks)}`, `load average: ${x.loadAverage}`, `${x.seconds} s in all`].join('\n');
}
