// Benchmark: orchestrators inside nodes (docs/orchestrators.md), on the real testbed
// (scripts/testbed-lib) of three stations of one owner: real agents, Nebula, the owner's etcd lease
// store, LXC nodes, Docker Swarm in them. Each figure against a baseline measured in the same run:
//  1. declare-to-cluster-ready (orchestrators/formation.ts): ROUNDS rounds, each POSTing the same
//     swarm node spec (debian, nesting, orchestrator swarm, a fresh cluster bench-rN, node sw-rN) on
//     the three stations at once, until GET /nodes/NAME on all three shows a member of one healthy
//     cluster of three managers; against one such node on one station alone (node sw-bN, cluster
//     bench-bN, the station rotating), until dockerd answers and until it is the healthy member of
//     its cluster of one. Nodes are deleted (and awaited gone) after each round;
//  2. a service's request latency (orchestrators/latency.ts), in the first round's cluster: a
//     3-replica dnsrr busybox httpd service on the `station` overlay, and from a container on the
//     overlay in s1's node, sequential requests to the task on s1 (same station) and to the task on
//     s2 (across the mesh), timed inside the container; the mesh's own round trip s1 -> s2 alongside.
// The agents' namespaces cannot reach Debian's mirror: the debian template and the docker.io and
// docker-registry packages are made ready in the template cache from this (the machine's) namespace
// first, as test/integration/orchestrator-swarm.test.ts does; nothing is added to this namespace.
// Everything carries the run prefix stboXXXX (the testbed's namespaces stboXXXX-*, its agents,
// state and nodes under /run/station-testbed/stboXXXX, the template step's lxcpath) and is removed
// at the end, also on failure or Ctrl-C. Figures are medians (min–max).
//   node scripts/bench/orchestrators.ts [ROUNDS]   (or BENCH_ROUNDS; default 3: about 7 minutes on the
//     2-core machine, 10 for 5 rounds) BENCH_REQUESTS=200 BENCH_BATCHES=5 (part 2: requests per target per batch, batches)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { fetchPackages } from '../../agent/nodes/lxc/packages.ts';
import { templatePaths } from '../../agent/nodes/templates/cache.ts';
import { down, formMesh, loadTestbed, type Testbed, up } from '../testbed-lib/index.ts';
import { envNumber, log } from './disk/context.ts';
import { cleanupSteps, loadAverage } from './lib/cleanup.ts';
import { runBench } from './lib/run.ts';
import { type BaselineRound, baselineRound, type ClusterRound, clusterRound, deleteNodes, STATIONS } from './orchestrators/formation.ts';
import { type LatencyResult, measureLatency } from './orchestrators/latency.ts';
import { summary, table } from './orchestrators/report.ts';
import { roundsFrom } from './replicas/report.ts';
import { call, printWarnings, stopContainers, waitFor } from './replicas/testbed-station.ts';

const PREFIX = `stbo${randomBytes(2).toString('hex')}`;
const OWNER = 'bench';
const DEFAULT_ROUNDS = 3;
const TEMPLATE_CACHE = process.env.STATION_TEMPLATE_CACHE ?? '/var/cache/station-test/templates';

const cleanup = cleanupSteps(log);
const onCleanup = (what: string, run: () => Promise<void>) => cleanup.add({ what, run });
const tearDown = cleanup.tearDown;

/** The debian template and the engine's packages in the shared cache, made ready from this namespace (it reaches the mirror). */
async function templateAndPackages(): Promise<void> {
  const lxcPath = await mkdtemp(join(tmpdir(), `${PREFIX}-lxc-`));
  onCleanup(`lxcpath ${lxcPath}`, () => rm(lxcPath, { recursive: true, force: true }));
  const driver = new LxcDriver({ lxcPath, templateCache: TEMPLATE_CACHE, run: exec, log: pino({ level: 'silent' }) });
  await driver.ensureTemplate('debian', log);
  const debs = join(TEMPLATE_CACHE, 'debs');
  await fetchPackages(exec, templatePaths(TEMPLATE_CACHE, 'debian').rootfs, debs, ['docker.io', 'docker-registry'], log);
}

async function testbed(): Promise<{ tb: Testbed; mesh: Record<string, string> }> {
  onCleanup(`testbed ${PREFIX}`, async () => {
    // a node's processes live in namespaces of their own: its container is stopped before the station's namespace goes
    const tb = loadTestbed(PREFIX);
    if (tb) await stopContainers(tb);
    await down(PREFIX);
  });
  const tb = await up({
    prefix: PREFIX,
    stations: 3,
    publicStations: 1,
    env: { STATION_REPLICAS_ROUND_SECONDS: '1', STATION_MESH_SYNC_SECONDS: '2', STATION_TEMPLATE_CACHE: TEMPLATE_CACHE },
  });
  const mesh = await formMesh(tb, OWNER);
  // a new cluster's founder is named by the owner's lease store; joins go to the other stations over the mesh
  await waitFor(
    'three voting lease store members',
    async () => (await call(tb, 's1', 'GET', '/replicas', undefined, 10)).leaseStore?.voters === 3,
    180_000,
    500,
  );
  for (const s of STATIONS) {
    await waitFor(
      `${s} seeing both other stations online`,
      async () => ((await call(tb, s, 'GET', '/mesh/peers', undefined, 10)).peers as { online: boolean }[]).filter((p) => p.online).length === 2,
      180_000,
      500,
    );
  }
  return { tb, mesh };
}

async function main(): Promise<void> {
  const started = performance.now();
  const rounds = roundsFrom(process.argv.slice(2), { BENCH_ROUNDS: process.env.BENCH_ROUNDS || String(DEFAULT_ROUNDS) });
  const requests = Math.max(1, Math.round(envNumber('BENCH_REQUESTS', 200)));
  const batches = Math.max(1, Math.round(envNumber('BENCH_BATCHES', 5)));
  const loadBefore = loadAverage();
  log(`bench orchestrators: run prefix ${PREFIX}, ${rounds} rounds`);
  await templateAndPackages();
  const { tb, mesh } = await testbed();
  log(`testbed ${PREFIX}: three stations, mesh and three voters after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const baselines: BaselineRound[] = [];
  const clusters: ClusterRound[] = [];
  let latency: LatencyResult | null = null;
  try {
    for (let r = 1; r <= rounds; r++) {
      const station = STATIONS[(r - 1) % STATIONS.length]!;
      const b = await baselineRound(tb, station, `sw-b${r}`, `bench-b${r}`);
      baselines.push(b);
      log(
        `baseline ${r}, one node on ${station}: POST ${b.posted.toFixed(1)} s, dockerd answering ${b.engine.toFixed(1)} s ` +
          `(docker version in the node ${b.engineExec.toFixed(1)} s), healthy cluster of one ${b.clusterOfOne.toFixed(1)} s`,
      );
      await deleteNodes(tb, b.node, [station]);
      const c = await clusterRound(tb, `sw-r${r}`, `bench-r${r}`);
      clusters.push(c);
      const each = (m: Record<string, number>) => STATIONS.map((s) => `${s} ${m[s]?.toFixed(1) ?? '?'}`).join(', ');
      log(`cluster ${r}: POST ${each(c.posted)} s; member ${each(c.member)} s; healthy cluster of three managers ${c.ready.toFixed(1)} s`);
      if (r === 1) latency = await measureLatency(tb, c.node, mesh, { requests, batches, log });
      await deleteNodes(tb, c.node, STATIONS);
    }
  } catch (error) {
    // what the agents said, before the tear-down removes their logs
    await printWarnings(tb, log);
    throw error;
  }
  const result = summary(clusters, baselines, latency!, `${loadBefore} (start), ${loadAverage()} (end)`, (performance.now() - started) / 1000);
  process.stdout.write(`${table(result)}\n${JSON.stringify(result)}\n`);
}

process.once('SIGTERM', () => void tearDown().finally(() => process.exit(143)));
await runBench('bench orchestrators', main, tearDown);
