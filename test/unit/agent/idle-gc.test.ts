import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInNewContext } from 'node:vm';
import { IdleCollector, collectAllGarbage } from '../../../agent/idle-gc.ts';

/** A collector on a hand-driven clock: `advance` moves time one check at a time, as the timer would. */
function rig(quietMs = 10_000, checkEveryMs = 1_000) {
  let now = 0;
  let requests = 0;
  const collectedAt: number[] = [];
  let stopped = false;
  const collector = new IdleCollector({
    quietMs, checkEveryMs,
    activity: () => requests,
    collect: () => collectedAt.push(now),
    now: () => now,
    schedule: () => () => { stopped = true; },
  });
  collector.start();
  const advance = (ms: number, requestsPerCheck = 0) => {
    for (let t = 0; t < ms; t += checkEveryMs) {
      now += checkEveryMs;
      requests += requestsPerCheck;
      collector.tick();
    }
  };
  return { collector, collectedAt, advance, isStopped: () => stopped };
}

test('start-up garbage is collected once, after the quiet time, and not again while nothing happens', () => {
  const { collectedAt, advance } = rig();
  advance(9_000);
  assert.equal(collectedAt, [], 'not before 10 s of quiet');
  advance(1_000);
  assert.equal(collectedAt, [10_000]);
  advance(120_000);
  assert.equal(collectedAt, [10_000], 'one collection per quiet spell');
});

test('never while requests flow, however long they flow; once after they stop', () => {
  const { collectedAt, advance } = rig();
  advance(60_000, 5); // requests arrive at every check for a minute
  assert.equal(collectedAt, []);
  advance(9_000);
  assert.equal(collectedAt, []);
  advance(1_000);
  assert.equal(collectedAt, [70_000]);
});

test('every later busy spell is followed by one collection; a single request counts as one', () => {
  const { collectedAt, advance } = rig();
  advance(10_000);
  advance(5_000, 100);
  advance(10_000);
  advance(1_000, 1);
  advance(10_000);
  assert.equal(collectedAt, [10_000, 25_000, 36_000]);
});

test('a request within the quiet time starts the wait again', () => {
  const { collectedAt, advance } = rig();
  advance(8_000);
  advance(1_000, 1);
  advance(9_000);
  assert.equal(collectedAt, []);
  advance(1_000);
  assert.equal(collectedAt, [19_000]);
});

test('stop() ends the schedule', () => {
  const { collector, isStopped } = rig();
  collector.stop();
  assert.ok(isStopped());
});

test('the collection frees old-generation garbage and leaves gc() hidden from code', () => {
  // Survivors of young collections are promoted; dropping them leaves old-generation garbage.
  let keep: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
  for (let i = 0; i < 50; i++) Array.from({ length: 10_000 }, () => ({}));
  keep = null;
  const before = process.memoryUsage().heapUsed;
  collectAllGarbage();
  assert.ok(process.memoryUsage().heapUsed < before - 5 * 2 ** 20, 'at least 5 MB collected');
  assert.is(keep, null);
  assert.is(runInNewContext('typeof gc'), 'undefined');
});

test.run();
