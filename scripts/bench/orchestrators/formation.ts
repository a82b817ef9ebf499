// Part 1 of the orchestrators benchmark: how long a swarm node's spec takes to become something
// that works. Timed from the moment the POSTs start (the nodes are made, docker.io installed, the
// agent's 5 s rounds bring them on), read from GET /nodes/NAME as a person or a script would:
//  - a cluster round: the same spec POSTed on the three stations at once, until all three show
//    state `member`, health `healthy` and three managers;
//  - a baseline round: one such node on one station alone, until its report names the engine's
//    version (dockerd answered the agent's `docker version`), and until it is the healthy member of
//    its cluster of one; meanwhile `docker version` in the node (POST /nodes/NAME/exec) is polled
//    every second, the same readiness seen without the agent's rounds.
// Every round has fresh nodes and a fresh cluster name; the nodes are deleted, and awaited gone, after.
import { stationApi, stationOf, type Testbed } from '../../testbed-lib/index.ts';
import { call, waitFor } from '../replicas/testbed-station.ts';

export const STATIONS = ['s1', 's2', 's3'];
const POLL_MS = 500;
const READY_TIMEOUT_MS = 900_000;

export const swarmSpec = (name: string, cluster: string) => ({
  name,
  template: 'debian',
  profile: 'nesting',
  resources: { memoryMB: 1024 },
  orchestrator: { kind: 'swarm', cluster },
});

export interface Report {
  state: string;
  reason: string | null;
  memberId: string | null;
  engineVersion: string | null;
  view: { health: string; managers: { total: number; reachable: number } } | null;
}

export const reportOf = async (tb: Testbed, station: string, node: string): Promise<Report | null> =>
  (await call(tb, station, 'GET', `/nodes/${node}`, undefined, 15)).orchestrator ?? null;

const healthyOf = (r: Report | null | undefined, managers: number) =>
  r?.state === 'member' && r.view?.health === 'healthy' && r.view.managers.total === managers;

const seconds = (since: number) => (performance.now() - since) / 1000;

export interface ClusterRound {
  node: string;
  cluster: string;
  /** each station's POST /nodes answered (s) */
  posted: Record<string, number>;
  /** each station's node first seen as a member (s) */
  member: Record<string, number>;
  /** all three members of one healthy cluster of three managers (s) */
  ready: number;
}

export interface BaselineRound {
  station: string;
  node: string;
  posted: number;
  /** the agent's report names the engine's version: dockerd answered (s) */
  engine: number;
  /** `docker version` answered in the node, polled through POST /nodes/NAME/exec (s) */
  engineExec: number;
  /** the node is the healthy member of its cluster of one (s) */
  clusterOfOne: number;
}

/** One node on `station` alone, from its POST to dockerd answering and to its own cluster of one. */
export async function baselineRound(tb: Testbed, station: string, node: string, cluster: string): Promise<BaselineRound> {
  const t0 = performance.now();
  await call(tb, station, 'POST', '/nodes', swarmSpec(node, cluster), 900);
  const posted = seconds(t0);
  const execReady = waitFor(
    `docker version answering in ${node} on ${station}`,
    async () => {
      const r = await call(
        tb,
        station,
        'POST',
        `/nodes/${node}/exec`,
        { command: ['docker', 'version', '--format', '{{.Server.Version}}'], timeoutSeconds: 10 },
        20,
      );
      return r.exitCode === 0 && r.stdout.trim() !== '' ? seconds(t0) : null;
    },
    READY_TIMEOUT_MS,
    1000,
  );
  execReady.catch(() => undefined); // awaited below: a failure before then is not unhandled
  const seen: { engine: number | null } = { engine: null };
  let last: Report | null = null;
  const clusterOfOne = await waitFor(
    `${node} on ${station} the healthy member of its cluster of one`,
    async () => {
      last = await reportOf(tb, station, node);
      if (seen.engine === null && last?.engineVersion) seen.engine = seconds(t0);
      return healthyOf(last, 1) ? seconds(t0) : null;
    },
    READY_TIMEOUT_MS,
    POLL_MS,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  return { station, node, posted, engine: seen.engine ?? clusterOfOne, engineExec: await execReady, clusterOfOne };
}

/** The same spec POSTed on the three stations at once, until one healthy cluster of three managers. */
export async function clusterRound(tb: Testbed, node: string, cluster: string): Promise<ClusterRound> {
  const t0 = performance.now();
  const posted: Record<string, number> = {};
  await Promise.all(
    STATIONS.map(async (s) => {
      await call(tb, s, 'POST', '/nodes', swarmSpec(node, cluster), 900);
      posted[s] = seconds(t0);
    }),
  );
  const member: Record<string, number> = {};
  let last: Record<string, Report | null> = {};
  const ready = await waitFor(
    `${node} on ${STATIONS.join(', ')}: one healthy cluster of three managers`,
    async () => {
      const reports = await Promise.all(STATIONS.map(async (s) => [s, await reportOf(tb, s, node)] as const));
      const at = seconds(t0);
      last = Object.fromEntries(reports);
      for (const [s, r] of reports) if (member[s] === undefined && r?.state === 'member') member[s] = at;
      return reports.every(([, r]) => healthyOf(r, 3)) ? at : null;
    },
    READY_TIMEOUT_MS,
    POLL_MS,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  return { node, cluster, posted, member, ready };
}

/** DELETE /nodes/NAME on each station, then each awaited gone (404). */
export async function deleteNodes(tb: Testbed, node: string, stations: string[]): Promise<void> {
  await Promise.all(stations.map((s) => call(tb, s, 'DELETE', `/nodes/${node}`, undefined, 300)));
  for (const s of stations) {
    await waitFor(
      `${node} gone from ${s}`,
      async () => (await stationApi(stationOf(tb, s), 'GET', `/nodes/${node}`, undefined, 15)).status === 404,
      180_000,
      500,
    );
  }
}
