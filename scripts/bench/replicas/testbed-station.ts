// What the replicas benchmark's testbed part does to a station of the testbed (scripts/testbed-lib):
// its API (curl in its namespace), commands in a node, the Dynamic Alias its resolver answers, a
// node's copies as the Active shows them, the event stream recorded from the start, the cut off
// the mesh (an nftables table of the run's own in the station's namespace dropping Nebula's UDP
// port, as replicas-failover.test.ts cuts a station) and the containers stopped at the end.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { netnsRunner } from '../../../agent/nodes/lxc/netns-runner.ts';
import { type SeenEvent, StationEventStream } from '../../testbed-lib/event-stream.ts';
import { type StationRecord, stationApi, stationOf, type Testbed } from '../../testbed-lib/index.ts';
import { waitFor } from '../../../test/helpers/wait.ts';

export { waitFor };

/** The replicated node the rounds move and fail over. */
export const NODE = 'web';

/** A program in a station's namespace; `secrets` are blanked out of what an error reports. */
export const stationExec = (
  st: StationRecord,
  argv: string[],
  options: { allowFailure?: boolean; timeoutMs?: number; input?: string } = {},
  secrets: string[] = [],
) => exec(argv, { ...options, netns: st.netns, secrets });

/** A station's API; an answer other than 2xx is an error saying what was asked and what came back. */
// biome-ignore lint/suspicious/noExplicitAny: the answers are read as untyped JSON, as the tests read them
export async function call<T = any>(tb: Testbed, station: string, method: string, path: string, body?: unknown, timeoutS = 60): Promise<T> {
  const r = await stationApi<T>(stationOf(tb, station), method, path, body, timeoutS);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} on ${station}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body;
}

/** A shell command in a node (POST /nodes/:name/exec); its stdout, or an error with its exit and output. */
export async function inNode(tb: Testbed, station: string, node: string, script: string): Promise<string> {
  const r = await call<{ exitCode: number; stdout: string; stderr: string }>(
    tb,
    station,
    'POST',
    `/nodes/${node}/exec`,
    { command: ['sh', '-c', script] },
    120,
  );
  if (r.exitCode !== 0) throw new Error(`${script} in ${node} on ${station}: exit ${r.exitCode}: ${(r.stderr || r.stdout).slice(-300)}`);
  return r.stdout;
}

/** The station `station`'s resolver names for NAME (GET /aliases), or null. */
export async function aliasStation(tb: Testbed, station: string, name: string): Promise<string | null> {
  const records: { name: string; station?: string }[] = (await call(tb, station, 'GET', '/aliases', undefined, 10)).records ?? [];
  return records.find((r) => r.name === name)?.station ?? null;
}

export interface ReplicaView {
  station: string;
  state: string;
  snapshotAt: string | null;
}
export interface NodeReplicasView {
  role: string;
  active: string | null;
  lease: { held: boolean; token: number | null; holder: string | null } | null;
  replicas: ReplicaView[];
}

/**
 * The Active believes another station holds the lease, and that station is itself: once seen when a
 * tick's refusal overwrote a promotion's adopted lease view (ActiveCopies now adopts in the node's
 * turn). The node would run with nothing copied and pulls refused: the run fails instead.
 */
export class StuckLeaseView extends Error {
  readonly station: string;
  constructor(station: string, view: NodeReplicasView) {
    super(`${station} runs the Active copy but shows the lease as held by itself and not by it, for 15 s: ${JSON.stringify(view)}`);
    this.station = station;
  }
}

/**
 * Waits until `station` (the Active) shows `count` copies in sync, each holding a snapshot taken after
 * `after` (ms since the epoch); throws StuckLeaseView at once when it shows that state for 15 s.
 */
export async function copiesInSync(tb: Testbed, station: string, node: string, count: number, after: number, timeoutMs = 120_000): Promise<void> {
  let last: NodeReplicasView | null = null;
  let stuckSince: number | null = null;
  const fresh = (x: ReplicaView) => x.state === 'in-sync' && x.snapshotAt !== null && Date.parse(x.snapshotAt) > after;
  const outcome = await waitFor(
    `${station} showing ${count} copies of ${node} in sync`,
    async () => {
      const view = await call<NodeReplicasView>(tb, station, 'GET', `/nodes/${node}/replicas`, undefined, 10);
      last = view;
      const stuck = view.role === 'active' && view.lease?.held === false && view.lease.holder === station;
      stuckSince = stuck ? (stuckSince ?? Date.now()) : null;
      if (stuckSince !== null && Date.now() - stuckSince > 15_000) return 'stuck';
      return view.role === 'active' && view.replicas.length === count && view.replicas.every(fresh) ? 'in-sync' : null;
    },
    timeoutMs,
    250,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  if (outcome === 'stuck') throw new StuckLeaseView(station, last!);
}

/** What the testbed part's rounds share: the testbed, each station's event stream, the node's alias, the cut's table. */
export interface Stage {
  tb: Testbed;
  events: Record<string, EventStream>;
  alias: string;
  table: string;
  log: (line: string) => void;
}

/** A station's event stream (scripts/testbed-lib/event-stream.ts), read by when each event arrived. */
export class EventStream extends StationEventStream {
  // biome-ignore lint/suspicious/noExplicitAny: see SeenEvent
  find(type: string, since: number, match: (data: any) => boolean = () => true): SeenEvent | undefined {
    return this.events.find((e) => e.type === type && e.receivedAt >= since && match(e.data));
  }

  // biome-ignore lint/suspicious/noExplicitAny: see SeenEvent
  wait(type: string, since: number, match: (data: any) => boolean, timeoutMs: number): Promise<SeenEvent> {
    return waitFor(`event ${type}`, async () => this.find(type, since, match), timeoutMs, 50);
  }
}

export { cutFromMesh as cut, healCut as heal } from '../../testbed-lib/mesh-cut.ts';

/**
 * Stops every container of the testbed's stations (lxc-stop -k, through each station's namespace: LXC's
 * command sockets are per network namespace). A node's processes live in a namespace of their own, so
 * removing the station's namespace would not end them. Only the containers under the testbed's directory.
 */
export async function stopContainers(tb: Pick<Testbed, 'stations'>): Promise<void> {
  for (const st of tb.stations) {
    const lxcPath = join(st.stateDir, 'lxc');
    const run = netnsRunner(st.netns);
    for (const name of await readdir(lxcPath).catch(() => [] as string[])) {
      await run(['lxc-stop', '-P', lxcPath, '-n', name, '-k'], { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
    }
  }
}

/** `btrfs send -p PARENT SNAP | btrfs receive DIR` (or the whole SNAP without a parent); seconds, then the stream's bytes (sent again, untimed). */
export async function localSendReceive(parent: string | null, snapshot: string, dir: string): Promise<{ seconds: number; bytes: number }> {
  const from = parent ? ['-p', parent] : [];
  const start = performance.now();
  await exec(['sh', '-c', 'btrfs send -q "$@" | btrfs receive -q "$0"', dir, ...from, snapshot], { timeoutMs: 600_000 });
  const seconds = (performance.now() - start) / 1000;
  const counted = await exec(['sh', '-c', 'btrfs send -q "$@" | wc -c', 'sh', ...from, snapshot], { timeoutMs: 600_000 });
  return { seconds, bytes: Number(counted.stdout.trim()) };
}

/** The newest warnings and errors of each station's agent log (pino JSON lines, level 40 and up), to explain a failure. */
export async function printWarnings(tb: Testbed, log: (line: string) => void, perStation = 12): Promise<void> {
  for (const st of tb.stations) {
    const lines = (await readFile(st.logFile, 'utf8').catch(() => '')).split('\n').filter((l) => /"level":([4-9]\d)/.test(l));
    for (const line of lines.slice(-perStation)) log(`${st.name} log: ${line.slice(0, 600)}`);
  }
}

/** The election timeout (ms) a station's etcd member was started with (from its command line), or null while none runs. */
export async function etcdElectionMs(st: StationRecord): Promise<number | null> {
  const pids = (await exec(['ip', 'netns', 'pids', st.netns], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    if ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() !== 'etcd') continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const i = argv.indexOf('--election-timeout');
    if (i >= 0) return Number(argv[i + 1]);
  }
  return null;
}
