// The testbed part's result (testbed.ts): a summary object (in the JSON line, under `testbed`) and
// the rows of the human table, each figure beside its baseline from the same run and its goal.
import { median, summarise } from '../lib/stats.ts';
import type { TestbedRounds } from './testbed.ts';

const MiB = 1024 * 1024;
const round = (v: number, digits = 2) => Number(v.toFixed(digits));
const ratio = (pairs: [number, number][], digits = 3) => round(median(pairs.map(([a, b]) => a / b)), digits);
const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
const maybe = (values: number[]) => (values.length ? summarise(values) : null);

/** the median of each step over the rounds that report it */
function stepMedians(rounds: Record<string, number>[]): Record<string, number> {
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(names.map((k) => [k, round(median(rounds.flatMap((r) => (k in r ? [r[k]!] : []))), 0)]));
}

export const GOAL_FAILOVER_S = 15;
export const GOAL_MOVE_S = 2;

export function testbedSummary(t: TestbedRounds, load: string) {
  const s = t.settings;
  const f = t.failovers;
  const alias = summarise(f.map((r) => r.aliasSeconds));
  const lost = f.map((r) => r.before - r.served);
  const rpo = summarise(lost.map((n) => n / 10));
  const downtime = summarise(t.moves.map((m) => m.downtimeSeconds));
  const rate = (x: { bytes: number; seconds: number }) => x.bytes / MiB / x.seconds;
  const inc = t.increments;
  return {
    stations: 3,
    loadAverage: load,
    leaseSeconds: s.leaseSeconds,
    snapshotSeconds: s.snapshotSeconds,
    setupSeconds: round(t.setupSeconds, 0),
    electionTimeoutMs: t.electionTimeoutMs,
    failover: {
      loss: 'a power loss simulated by a cut off the mesh (Nebula UDP dropped in its namespace): the cut Active keeps its agent, fences itself, stops its node',
      rounds: f.length,
      aliasSeconds: alias,
      activeAliasSeconds: summarise(f.map((r) => r.activeAliasSeconds)),
      writerSeconds: summarise(f.map((r) => r.writerSeconds)),
      promotedEventSeconds: summarise(f.map((r) => r.promotedSeconds)),
      promoteStepsMs: stepMedians(f.map((r) => r.promoteStepsMs ?? {})),
      fencedSeconds: maybe(present(f.map((r) => r.fencedSeconds))),
      leaderCuts: f.filter((r) => r.leaderCut).length,
      ratioToTtl: round(alias.median / s.leaseSeconds),
      goal: `alias answering from the new Active <= ${GOAL_FAILOVER_S} s (median)`,
      met: alias.median <= GOAL_FAILOVER_S,
      path: f.map((r) => `${r.from}->${r.to}`).join(' '),
    },
    rpo: {
      lostWrites: summarise(lost),
      seconds: rpo,
      lagAtPromotionSeconds: maybe(present(f.map((r) => r.lagAtPromotion))),
      writerPeriodMs: maybe(present(f.map((r) => r.writerPeriodMs))),
      ratioToInterval: round(rpo.median / s.snapshotSeconds),
      goal: `<= one snapshot interval (${s.snapshotSeconds} s)`,
      met: rpo.median <= s.snapshotSeconds,
      everyRound: rpo.max <= s.snapshotSeconds,
    },
    heal: {
      demotedSeconds: summarise(f.map((r) => r.demotedSeconds)),
      resyncSeconds: summarise(f.map((r) => r.resyncSeconds)),
      divergedKept: f.filter((r) => r.diverged?.startsWith('diverged-') && r.divergedFound.includes(r.diverged)).length,
      /** rounds whose demotion left more diverged snapshots than it reported (a demotion run twice) */
      extraDiverged: f.filter((r) => r.divergedFound.length > 1).length,
    },
    move: {
      rounds: t.moves.length,
      downtimeSeconds: downtime,
      stepsMs: stepMedians(t.moves.map((m) => m.steps)),
      callSeconds: summarise(t.moves.map((m) => m.callSeconds)),
      aliasAfterMs: summarise(t.moves.map((m) => m.aliasAfterMs)),
      goal: `downtime <= ${GOAL_MOVE_S} s (median)`,
      met: downtime.median <= GOAL_MOVE_S,
      path: t.moves.map((m) => `${m.from}->${m.to}`).join(' '),
    },
    increment: {
      rounds: inc.length,
      writtenMiB: round(s.incrementBytes / MiB),
      meshMiB: summarise(inc.map((r) => r.mesh.bytes / MiB)),
      meshSeconds: summarise(inc.map((r) => r.mesh.seconds)),
      meshMiBps: summarise(inc.map((r) => rate(r.mesh))),
      localMiB: summarise(inc.map((r) => r.local.bytes / MiB)),
      localSeconds: summarise(inc.map((r) => r.local.seconds)),
      localMiBps: summarise(inc.map((r) => rate(r.local))),
      transportMiBps: summarise(inc.map((r) => rate(r.transport))),
      meshToLocalThroughput: ratio(inc.map((r) => [rate(r.mesh), rate(r.local)])),
      meshToTransportThroughput: ratio(inc.map((r) => [rate(r.mesh), rate(r.transport)])),
      meshToLocalBytes: ratio(inc.map((r) => [r.mesh.bytes, r.local.bytes])),
    },
    rounds: { increments: inc, moves: t.moves, failovers: f },
  };
}

export type TestbedSummary = ReturnType<typeof testbedSummary>;

type Range = { median: number; min: number; max: number };
const span = (r: Range, unit: string) => `${r.median} ${unit} (${r.min}–${r.max})`;
const yes = (met: boolean) => (met ? 'yes' : 'NO');

/** Rows for the human table (measure, median (min–max), baseline, ratio, goal, met), and notes under it. */
export function testbedRows(t: TestbedSummary): { rows: string[][]; notes: string[] } {
  const f = t.failover;
  const steps = Object.entries(t.move.stepsMs)
    .map(([k, v]) => `${k.replace(/Ms$/, '')} ${v}`)
    .join(', ');
  const i = t.increment;
  const rows = [
    [
      `testbed: power loss (a cut) -> third station's resolver answers the alias from the new Active`,
      span(f.aliasSeconds, 's'),
      `lease TTL ${t.leaseSeconds} s; fenced ${f.fencedSeconds?.median ?? '?'} s; new Active's own resolver ${f.activeAliasSeconds.median} s`,
      `${f.ratioToTtl} ×TTL`,
      `<= ${GOAL_FAILOVER_S} s`,
      yes(f.met),
    ],
    [
      '  RPO by the counter (writes lost ÷ 10 per s)',
      `${span(t.rpo.seconds, 's')}; ${t.rpo.lostWrites.median} writes`,
      `snapshot interval ${t.snapshotSeconds} s`,
      `${t.rpo.ratioToInterval} ×interval`,
      `<= ${t.snapshotSeconds} s`,
      `${yes(t.rpo.met)}${t.rpo.everyRound ? '' : ' (not every round)'}`,
    ],
    [
      '  healed: old Active demoted; both copies in sync',
      `${span(t.heal.demotedSeconds, 's')}; ${span(t.heal.resyncSeconds, 's')}`,
      '',
      '',
      'diverged writes kept',
      `${t.heal.divergedKept}/${f.rounds}${t.heal.extraDiverged ? ` (${t.heal.extraDiverged} with a second one)` : ''}`,
    ],
    ['testbed: planned move downtime, busybox node', span(t.move.downtimeSeconds, 's'), `steps (ms): ${steps}`, '', `<= ${GOAL_MOVE_S} s`, yes(t.move.met)],
    [
      `testbed: increment of ${i.writtenMiB} MiB over the mesh`,
      `${span(i.meshMiBps, 'MiB/s')}; ${i.meshSeconds.median} s, ${i.meshMiB.median} MiB`,
      `local btrfs send | receive: ${span(i.localMiBps, 'MiB/s')}; ${i.localSeconds.median} s`,
      `${i.meshToLocalThroughput} ×local`,
      '',
      '',
    ],
    ['  the written file alone over the mesh (station API)', span(i.transportMiBps, 'MiB/s'), '', `increment ${i.meshToTransportThroughput} ×this`, '', ''],
  ];
  const promote = Object.entries(f.promoteStepsMs)
    .map(([k, v]) => `${k.replace(/Ms$/, '')} ${v} ms`)
    .join(', ');
  const elections = Object.entries(t.electionTimeoutMs)
    .map(([k, v]) => `${k} ${v} ms`)
    .join(', ');
  const notes = [
    `testbed: ${f.loss}; the alias read from GET /aliases; ${f.leaderCuts} of ${f.rounds} cuts took etcd's leader; path ${f.path}; moves ${t.move.path}`,
    `testbed: after the cut, the new Active's writer ran at ${f.writerSeconds.median} s and replicas.promoted came at ${f.promotedEventSeconds.median} s; ` +
      `the promotion's steps: ${promote || 'not in the log'}`,
    `testbed: etcd election timeouts as the members started: ${elections}`,
    `testbed: the third station answered ${t.move.aliasAfterMs.median} ms after a move's answer; ` +
      'mesh increment: replicas.copy.sent seconds (pull asked, stream, receive), no sync on either side',
  ];
  return { rows, notes };
}
