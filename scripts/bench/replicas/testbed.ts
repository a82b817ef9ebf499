// Part 3 of the replicas benchmark: the real testbed (scripts/testbed-lib) of three stations of one
// owner, each a real agent with its Nebula, its etcd member of the owner's lease store and a
// loop-backed btrfs pool, as test/integration/replicas-failover.test.ts runs it. Measured:
//  1. the increment over the mesh against a local btrfs send | receive of the same increment
//     (testbed-increment.ts; node `blob`, made and deleted first, so nothing else streams meanwhile);
//  2. planned moves of node `web` (a busybox node: httpd and a writer), ROUNDS of them, each to the next station;
//  3. ROUNDS "power losses", simulated by a cut of the Active off the mesh, each until a third
//     station's resolver answers web.OWNER.<domain> with the promoted copy, with the RPO read from the
//     writer's counter; each healed before the next, which cuts the new Active (testbed-failover.ts).
// The writer increments /srv/counter every 100 ms (written aside and renamed, so a snapshot never
// holds half a number) and notes in /srv/resumed the value it started from: what the copy it runs
// on held. Everything carries the run prefix: the testbed's namespaces PREFIX-*, its record and
// state under /run/station-testbed/PREFIX, the pools' labels, the nftables table PREFIXcut in the
// cut station's namespace, the local receive directory PREFIX-local in s1's pool; all of it goes at
// the end, also on failure or Ctrl-C (and the outer process sweeps it again: sweepTestbed).
// The agent bugs an earlier run met fail it loudly now, if they come back: a fencing margin that
// reaches the lease TTL (electionTimeouts), an Active stuck without its lease view (StuckLeaseView),
// a demotion leaving two diverged snapshots (counted), a re-promoted station not sending new sets.
import { down, formMesh, loadTestbed, stationApi, stationOf, type Testbed, up } from '../../testbed-lib/index.ts';
import { type FailoverRound, failoverRound, type MoveRound, moveRound } from './testbed-failover.ts';
import { type IncrementRound, measureIncrements } from './testbed-increment.ts';
import { EventStream, etcdElectionMs, heal, NODE, printWarnings, type Stage, stopContainers, waitFor } from './testbed-station.ts';
import { steady } from './testbed-steady.ts';

export interface TestbedSettings {
  rounds: number;
  leaseSeconds: number;
  snapshotSeconds: number;
  incrementBytes: number;
}

export interface TestbedRounds {
  settings: TestbedSettings;
  increments: IncrementRound[];
  moves: MoveRound[];
  failovers: FailoverRound[];
  setupSeconds: number;
  /** each station's etcd election timeout as its member started (ms) */
  electionTimeoutMs: Record<string, number | null>;
}

const OWNER = 'bench';
const WRITER = [
  'i=$(cat /srv/counter 2>/dev/null); [ -n "$i" ] || i=0; echo "$i" >> /srv/resumed;',
  'while :; do i=$((i+1)); echo "$i" > /srv/.counter && mv -f /srv/.counter /srv/counter; sleep 0.1; done',
].join(' ');

const voting = async (tb: Testbed) => (await stationApi(stationOf(tb, 's1'), 'GET', '/replicas')).body?.leaseStore?.voters === 3;

/** Every station sees the two others online (a replica is refused while its station is not) and its own lease store member serving. */
async function settled(tb: Testbed): Promise<void> {
  for (const st of tb.stations) {
    await waitFor(
      `${st.name} seeing both other stations online and serving its lease store member`,
      async () => {
        const peers: { online: boolean }[] = (await stationApi(st, 'GET', '/mesh/peers', undefined, 10)).body?.peers ?? [];
        const store = (await stationApi(st, 'GET', '/replicas', undefined, 10)).body?.leaseStore;
        return peers.filter((p) => p.online).length === 2 && store?.member === 'serving';
      },
      180_000,
      500,
    );
  }
}

/**
 * Each station's etcd election timeout as its member started. The agent bounds it by the lease TTL
 * (a holder fences two election timeouts before the TTL): a margin reaching the TTL fails the run.
 */
async function electionTimeouts(tb: Testbed, leaseSeconds: number): Promise<Record<string, number | null>> {
  const electionTimeoutMs: Record<string, number | null> = {};
  for (const st of tb.stations) {
    const ms = await waitFor(`${st.name}'s etcd member`, () => etcdElectionMs(st), 60_000, 250);
    if (2 * ms >= leaseSeconds * 1000) throw new Error(`${st.name}'s election timeout ${ms} ms leaves its leases no time to renew in a ${leaseSeconds} s TTL`);
    electionTimeoutMs[st.name] = ms;
  }
  return electionTimeoutMs;
}

/** Removes what a testbed part of run `prefix` left: its nodes' containers, then the testbed (agents by pid, namespaces, pools, record). */
export async function sweepTestbed(prefix: string): Promise<void> {
  const tb = loadTestbed(prefix);
  if (tb) await stopContainers(tb);
  await down(prefix);
}

export async function testbedPart(o: {
  prefix: string;
  settings: TestbedSettings;
  onCleanup(what: string, undo: () => Promise<void>): void;
  log: (line: string) => void;
}): Promise<TestbedRounds> {
  const { prefix, settings: s } = o;
  const started = Date.now();
  o.onCleanup(`testbed ${prefix}`, () => sweepTestbed(prefix));
  const tb = await up({
    prefix,
    stations: 3,
    publicStations: 1,
    storage: 'btrfs',
    poolMb: 1024,
    env: {
      STATION_REPLICAS_ROUND_SECONDS: '1',
      STATION_REPLICAS_LEASE_SECONDS: String(s.leaseSeconds),
      STATION_MESH_SYNC_SECONDS: '2',
      STATION_DISK_OFFER_GB: '0',
    },
  });
  const table = `${prefix}cut`;
  o.onCleanup(`nftables table ${table}`, async () => {
    for (const st of tb.stations) await heal(st, table);
  });
  const mesh = await formMesh(tb, OWNER);
  await waitFor('three voting lease store members', () => voting(tb), 180_000, 500);
  await settled(tb);
  const electionTimeoutMs = await electionTimeouts(tb, s.leaseSeconds);
  const events = Object.fromEntries(tb.stations.map((st) => [st.name, new EventStream(st)]));
  o.onCleanup('event streams', async () => {
    for (const e of Object.values(events)) e.stop();
  });
  const setupSeconds = (Date.now() - started) / 1000;
  o.log(`testbed ${prefix}: three stations, mesh and three voters in ${setupSeconds.toFixed(0)} s`);
  const g: Stage = { tb, events, alias: `${NODE}.${OWNER}.mesh.internal`, table, log: o.log };

  try {
    return { settings: s, ...(await measure(g, mesh, o)), setupSeconds, electionTimeoutMs };
  } catch (error) {
    // what the agents said, before the tear-down removes their logs
    await printWarnings(tb, o.log);
    throw error;
  }
}

async function measure(g: Stage, mesh: Record<string, string>, o: Parameters<typeof testbedPart>[0]) {
  const { tb, events } = g;
  const { prefix, settings: s } = o;
  const increments = await measureIncrements(tb, events, { prefix, rounds: s.rounds, bytes: s.incrementBytes, mesh, log: o.log });

  const spec = {
    name: NODE,
    resources: { memoryMB: 32 },
    volumes: [{ name: 'data', path: '/srv' }],
    modules: [
      { name: 'httpd', run: 'exec httpd -f -p 80 -h /srv' },
      { name: 'counter', run: WRITER },
    ],
    disk: { snapshotSeconds: s.snapshotSeconds, backupSeconds: 0, copies: 0 },
    replicas: { stations: ['s2', 's3'] },
  };
  const made = await stationApi(stationOf(tb, 's1'), 'POST', '/nodes', spec, 180);
  if (made.status !== 201) throw new Error(`node ${NODE}: HTTP ${made.status} ${JSON.stringify(made.body)}`);
  let active = await steady(g, 's1', Date.now());
  const moves: MoveRound[] = [];
  for (let r = 0; r < s.rounds; r++) {
    const m = await moveRound(g, active);
    moves.push(m);
    active = m.next;
    const steps = Object.entries(m.steps)
      .map(([k, v]) => `${k.replace(/Ms$/, '')} ${v} ms`)
      .join(', ');
    o.log(
      `move ${r + 1}: ${m.from} -> ${m.to}, downtime ${m.downtimeSeconds} s (${steps}); ` +
        `${m.to} named by the third resolver ${m.aliasAfterMs.toFixed(0)} ms after`,
    );
  }

  const failovers: FailoverRound[] = [];
  for (let r = 0; r < s.rounds; r++) {
    const f = await failoverRound(g, active);
    failovers.push(f);
    active = f.next;
    o.log(
      `failover ${r + 1}: ${f.from} cut${f.leaderCut ? ' (its member led etcd)' : ''}; ` +
        `fenced ${f.fencedSeconds?.toFixed(1) ?? '?'} s, ${f.to} promoted ${f.promotedSeconds.toFixed(1)} s, ` +
        `${f.third} answered the alias with ${f.to} at ${f.aliasSeconds.toFixed(1)} s, its writer ran at ${f.writerSeconds.toFixed(1)} s; ` +
        `counter ${f.before} before the cut, ${f.to} resumed from ${f.served} (${((f.before - f.served) / 10).toFixed(1)} s lost); ` +
        `healed: ${f.from} demoted ${f.demotedSeconds.toFixed(1)} s, copies in sync ${f.resyncSeconds.toFixed(1)} s; ` +
        `diverged snapshots it kept: ${f.divergedFound.join(', ') || 'none'}`,
    );
  }
  return { increments, moves, failovers };
}
