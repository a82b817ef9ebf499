// The testbed part's moves and failovers of node `web` (httpd and a counter writer, see testbed.ts),
// replicated on all three stations.
//  - A planned move: POST /nodes/web/move to the first station of the Active's spec; its answer's
//    downtimeSeconds and steps, and when the third station's resolver answered the alias with the
//    target after the answer came. Then the old Active demoted and both copies fresh again.
//  - A "power loss", simulated by a cut: the Active's station is cut off the mesh (Nebula's UDP port
//    dropped in its namespace; its agent keeps running, so it fences itself and stops the node: the
//    loss as the others see it, repeatable on the same three stations). Measured from the cut until
//    the third station (neither the old Active nor the new) answers web.OWNER.<domain> with the new
//    Active. RPO by the counter: the counter on the old Active just before the cut, against the value
//    the new Active's writer resumed from (the newest snapshot it held). Then the cut heals: the old
//    Active demotes (its diverged writes kept as a snapshot) and resyncs; the next round cuts the new Active.
//    The diverged snapshots stay: a station promoted again must still send its copies the new sets
//    (the round waits for both copies to hold a set taken after the heal).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VolumeLayout } from '../../../agent/storage/layout.ts';
import { type Testbed, stationOf } from '../../testbed-lib/index.ts';
import { aliasStation, call, cut, heal, inNode, NODE, type Stage, waitFor } from './testbed-station.ts';
import { steady } from './testbed-steady.ts';

export interface MoveRound {
  from: string;
  to: string;
  downtimeSeconds: number;
  steps: Record<string, number>;
  /** the move call, as the caller waited for it */
  callSeconds: number;
  /** from the move's answer until the third station's resolver named the target */
  aliasAfterMs: number;
  /** the Active the round ended with: `to`, or another after a recovery (testbed-steady.ts) */
  next: string;
}

export interface FailoverRound {
  from: string;
  to: string;
  third: string;
  /** the cut station's etcd member led the lease store */
  leaderCut: boolean;
  fencedSeconds: number | null;
  promotedSeconds: number;
  /** the new Active's own resolver, then the third station's: from the cut */
  activeAliasSeconds: number;
  /** from the cut until the new Active's writer had started (polled every 100 ms once the alias named it) */
  writerSeconds: number;
  aliasSeconds: number;
  before: number;
  served: number;
  /** the promotion's own steps (ms), from the new Active's log: lease, volumes, node */
  promoteStepsMs: Record<string, number> | null;
  /** the promoted copy's lag as it reported it (the age of the snapshot it promoted from) */
  lagAtPromotion: number | null;
  writerPeriodMs: number | null;
  demotedSeconds: number;
  resyncSeconds: number;
  diverged: string | null;
  /** the diverged snapshots the demotion left on the demoted station (one is right; more: demoted twice) */
  divergedFound: string[];
  /** the Active the round ended with: `to` */
  next: string;
}

const others = (tb: Testbed, ...not: string[]) => tb.stations.map((s) => s.name).filter((s) => !not.includes(s));

export async function moveRound(g: Stage, active: string): Promise<MoveRound> {
  const from = await steady(g, active, 0);
  const spec = (await call(g.tb, from, 'GET', `/nodes/${NODE}`)).spec;
  const to: string = spec.replicas.stations[0];
  const [third] = others(g.tb, from, to);
  const start = performance.now();
  const moved = await call<{ downtimeSeconds: number; steps: Record<string, number> }>(g.tb, from, 'POST', `/nodes/${NODE}/move`, { to }, 300);
  const answered = performance.now();
  await waitFor(`${third} answering ${g.alias} with ${to}`, async () => (await aliasStation(g.tb, third!, g.alias)) === to, 60_000, 50);
  const aliasAfterMs = performance.now() - answered;
  await waitFor(
    `${from} demoted to an Inactive copy of ${to}`,
    async () => {
      const r = await call(g.tb, from, 'GET', `/nodes/${NODE}/replicas`, undefined, 10);
      return r.role === 'inactive' && r.active === to;
    },
    60_000,
    250,
  );
  const next = await steady(g, to, Date.now());
  return { from, to, downtimeSeconds: moved.downtimeSeconds, steps: moved.steps, callSeconds: (answered - start) / 1000, aliasAfterMs, next };
}

/** The steps of the newest promotion of the node in a station's agent log ('replicas: promoted here', its `ms`). */
async function promoteSteps(g: Stage, station: string): Promise<Record<string, number> | null> {
  const lines = (await readFile(stationOf(g.tb, station).logFile, 'utf8').catch(() => '')).split('\n').reverse();
  for (const line of lines) {
    if (!line.includes('replicas: promoted here')) continue;
    try {
      const entry = JSON.parse(line) as { node?: string; ms?: Record<string, number> };
      if (entry.node === NODE) return entry.ms ?? null;
    } catch {
      /* not a JSON line */
    }
  }
  return null;
}

/** The diverged snapshots a demoted station keeps of the node's volume (kept: nothing deletes them). */
async function divergedOn(g: Stage, station: string): Promise<string[]> {
  const layout = new VolumeLayout(join(stationOf(g.tb, station).stateDir, 'storage', 'pool', 'volumes'));
  const names = await readdir(layout.snapshotDir({ node: NODE, volume: 'data' })).catch(() => []);
  return names.filter((name) => name.startsWith('diverged-')).sort();
}

/** The counter the writer wrote last, and how many times a writer started on this copy (lines of /srv/resumed). */
async function counter(g: Stage, station: string): Promise<{ value: number; starts: number; at: number }> {
  const start = Date.now();
  const [value, starts] = (await inNode(g.tb, station, NODE, 'cat /srv/counter; wc -l < /srv/resumed')).trim().split(/\s+/).map(Number);
  if (!Number.isInteger(value) || !Number.isInteger(starts)) throw new Error(`the counter on ${station} reads ${value}, ${starts} starts`);
  return { value: value!, starts: starts!, at: (start + Date.now()) / 2 };
}

export async function failoverRound(g: Stage, active: string): Promise<FailoverRound> {
  let from = await steady(g, active, 0);
  let early = await counter(g, from);
  const checked = await steady(g, from, Date.now());
  if (checked !== from) [from, early] = [checked, await counter(g, checked)];
  const st = stationOf(g.tb, from);
  const rest = others(g.tb, from);
  const divergedBefore = await divergedOn(g, from);
  const members: { name: string; leader: boolean }[] = (await call(g.tb, from, 'GET', '/replicas')).leaseStore.members;
  const before = await counter(g, from);
  const cutAt = Date.now();
  await cut(st, g.table);
  // both other stations' resolvers, every 100 ms, until each names a station other than the cut one
  const seen: Record<string, { station: string; at: number }> = {};
  await waitFor(
    `${rest.join(' and ')} answering ${g.alias} with a new Active`,
    async () => {
      await Promise.all(
        rest
          .filter((s) => !seen[s])
          .map(async (s) => {
            const who = await aliasStation(g.tb, s, g.alias).catch(() => null);
            if (who && who !== from) seen[s] = { station: who, at: Date.now() };
          }),
      );
      return rest.every((s) => seen[s]);
    },
    120_000,
    100,
  );
  const to = seen[rest[0]!]!.station;
  if (seen[rest[1]!]!.station !== to) throw new Error(`the resolvers disagree: ${JSON.stringify(seen)}`);
  if (!rest.includes(to)) throw new Error(`the alias names ${to}, not one of ${rest.join(', ')}`);
  const third = rest.find((s) => s !== to)!;
  // the value the new Active's writer resumed from: the line its start added to /srv/resumed
  const resumed = await waitFor(
    `${to}'s writer to start`,
    async () => {
      const out = (await inNode(g.tb, to, NODE, 'wc -l < /srv/resumed; tail -n 1 /srv/resumed')).trim().split(/\s+/).map(Number);
      return out[0] === before.starts + 1 ? { value: out[1]!, at: Date.now() } : null;
    },
    60_000,
    100,
  );
  const promoted = await g.events[to]!.wait('replicas.promoted', cutAt, (d) => d.node === NODE, 30_000);
  const fenced = await g.events[from]!.wait('replicas.fenced', cutAt, (d) => d.node === NODE, 30_000).catch(() => null);
  for (const s of [from, third]) {
    const state = (await call(g.tb, s, 'GET', `/nodes/${NODE}`).catch(() => null))?.state;
    if (state === 'running') throw new Error(`${s} runs ${NODE} while ${to} does`);
  }

  const healAt = Date.now();
  await heal(st, g.table);
  const demoted = await g.events[from]!.wait('replicas.demoted', healAt, (d) => d.node === NODE, 120_000);
  const next = await steady(g, to, Date.now());
  const divergedFound = (await divergedOn(g, from)).filter((name) => !divergedBefore.includes(name));
  return {
    from,
    to,
    third,
    leaderCut: members.some((m) => m.leader && m.name === from),
    fencedSeconds: fenced ? (fenced.receivedAt - cutAt) / 1000 : null,
    promotedSeconds: (promoted.receivedAt - cutAt) / 1000,
    activeAliasSeconds: (seen[to]!.at - cutAt) / 1000,
    aliasSeconds: (seen[third]!.at - cutAt) / 1000,
    before: before.value,
    served: resumed.value,
    writerSeconds: (resumed.at - cutAt) / 1000,
    promoteStepsMs: await promoteSteps(g, to),
    lagAtPromotion: promoted.data.lagSeconds ?? null,
    writerPeriodMs: before.value > early.value ? (before.at - early.at) / (before.value - early.value) : null,
    demotedSeconds: (demoted.receivedAt - healAt) / 1000,
    resyncSeconds: (Date.now() - healAt) / 1000,
    diverged: demoted.data.diverged ?? null,
    divergedFound,
    next,
  };
}
