// The replicas benchmark's result: the rounds a run makes, ratios against the baselines of the same
// run (per-round ratios, then their median), the safety verdict of the cut, and the table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FailoverRound, Scenario } from '../../../../scripts/bench/replicas/failover.ts';
import type { CopyRound } from '../../../../scripts/bench/replicas/hot-copy.ts';
import { roundsFrom, summary, table } from '../../../../scripts/bench/replicas/report.ts';

const MiB = 1024 * 1024;
const settings = { rounds: 3, ttlSeconds: 5, marginMs: 2000, heartbeatMs: 100, electionTimeoutMs: 1000, dataBytes: 64 * MiB, changedBytes: MiB };

const failover = (scenario: Scenario, takeoverMs: number, more: Partial<FailoverRound> = {}): FailoverRound => ({
  scenario,
  a: 's1',
  b: 's2',
  takeoverMs,
  keyGoneMs: takeoverMs - 10,
  electionMs: scenario === 'power-follower' ? null : 1000,
  fencedMs: scenario === 'cut-leader' ? 3500 : null,
  twoHolders: 0,
  oldToken: 2,
  newToken: 4,
  ...more,
});
const rounds: FailoverRound[] = [
  ...[7000, 7500, 9000].map((ms) => failover('power-leader', ms)),
  ...[5100, 5300, 5200].map((ms) => failover('power-follower', ms)),
  ...[7400, 7600, 7200].map((ms) => failover('cut-leader', ms)),
];
const copy = (wholeMs: number, cpMs: number, incrementMs: number): CopyRound => ({
  whole: { ms: wholeMs, streamMs: wholeMs - 100, bytes: 64 * MiB + 200 },
  cp: { ms: cpMs },
  increment: { ms: incrementMs, streamMs: incrementMs - 100, bytes: MiB + 100 },
});
// round 2 ran at a slow moment: both its sides slowed alike
const copies = [copy(500, 200, 150), copy(2000, 1000, 600), copy(600, 200, 120)];

test('rounds: the first argument, else BENCH_ROUNDS, else 5; anything but a positive whole number is refused', () => {
  assert.is(roundsFrom([], {}), 5);
  assert.is(roundsFrom(['3'], { BENCH_ROUNDS: '7' }), 3);
  assert.is(roundsFrom([], { BENCH_ROUNDS: '7' }), 7);
  assert.is(roundsFrom([], { BENCH_ROUNDS: '' }), 5);
  for (const bad of ['0', '-1', '2.5', 'five', '1e3', '10000']) assert.throws(() => roundsFrom([bad], {}), /whole number/, bad);
});

test('takeover against the TTL and against etcd floor (election + election timeout + TTL), per scenario', () => {
  const s = summary(rounds, copies, settings, '1 1 1');
  const leader = s.failover['power-leader']!;
  assert.equal(leader.takeoverSeconds, { median: 7.5, min: 7, max: 9, n: 3 });
  assert.is(leader.ratioToTtl, 1.5);
  assert.is(leader.floorSeconds.median, 7); // 1 s election + 1 s election timeout + 5 s TTL
  assert.is(leader.ratioToFloor, 1.071);
  assert.is(leader.met, true);
  const follower = s.failover['power-follower']!;
  assert.is(follower.electionSeconds, null);
  assert.is(follower.floorSeconds.median, 5, 'no election: the TTL alone');
  assert.is(follower.ratioToTtl, 1.04);
  assert.is(s.acquireAfterKeyGoneMs!.median, 10);
  assert.is(summary([failover('power-leader', 16_000)], copies, settings, '').failover['power-leader']!.met, false);
});

test('the cut is safe only when A fenced before B took over in every round and no probe saw two holders', () => {
  const cut = summary(rounds, copies, settings, '').failover['cut-leader']!;
  assert.equal([cut.fencedSeconds?.median, cut.fenceBeforeTakeoverSeconds?.min, cut.twoHoldersSeen, cut.safe], [3.5, 3.7, 0, true]);
  const late = summary([failover('cut-leader', 7000, { fencedMs: 7100 })], copies, settings, '').failover['cut-leader']!;
  assert.is(late.safe, false, 'fenced after the takeover');
  const seen = summary([failover('cut-leader', 7000, { twoHolders: 1 })], copies, settings, '').failover['cut-leader']!;
  assert.equal([seen.twoHoldersSeen, seen.safe], [1, false]);
  const unfenced = summary([failover('cut-leader', 7000), failover('cut-leader', 7000, { fencedMs: null })], copies, settings, '');
  assert.is(unfenced.failover['cut-leader']!.safe, false, 'a round where A never fenced');
  assert.is(summary(rounds, copies, settings, '').failover['power-leader']!.safe, undefined, 'no fence figures where A lost power');
});

test("copy ratios are the median of each round's own ratio, not a ratio of medians", () => {
  const c = summary(rounds, copies, settings, '').hotCopy;
  assert.is(c.wholeToCp, 2.5); // 2.5, 2, 3
  assert.is(c.incrementToWhole.time, 0.3); // 0.3, 0.3, 0.2
  assert.is(c.incrementToWhole.bytes, 0.0156);
  assert.is(c.incrementBytesToChanged, 1);
  assert.is(c.wholeSeconds.median, 0.6);
  assert.is(c.wholeMiBps, 106.7);
  assert.is(c.incrementStreamSeconds.median, 0.05);
});

test('the table: a line per measure, columns aligned, a miss marked, then what the floor is', () => {
  const lines = table(summary([...rounds, failover('cut-leader', 7000, { twoHolders: 2 })], copies, settings, '')).split('\n');
  assert.ok(lines[0]!.startsWith('measure'));
  assert.is(lines.length, 1 + 3 + 1 + 1 + 2 + 3);
  assert.match(lines[1]!, /power loss, A's member the etcd leader +7\.5 s \(7–9\) +TTL 5 s; election 1 s \(1–1\) +1\.5 ×TTL; 1\.071 ×floor +<= 15 s +yes/);
  assert.match(lines.find((l) => l.includes('fenced itself'))!, /NO \(2 seen\)$/);
  assert.match(lines.find((l) => l.startsWith('increment'))!, /1 MiB sent; stream 0\.05 s +whole: 0\.6 s, 64 MiB sent +time 0\.3; bytes 0\.0156/);
  assert.ok(lines.at(-2)!.startsWith('floor:'));
  assert.ok(lines.at(-3)!.startsWith('A: the station holding the lease'));
  const column = lines[0]!.indexOf('baseline');
  assert.ok(lines.slice(1, -3).every((l) => l.length <= column || l[column - 1] === ' '));
});

test.run();
