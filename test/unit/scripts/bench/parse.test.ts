import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseWrk, parseSmapsRollup } from '../../../../scripts/bench/lib/parse.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/bench/${name}`, import.meta.url), 'utf8');

test('wrk report captured from a run against the bare Fastify baseline', () => {
  const r = parseWrk(fixture('wrk-latency.txt'));
  assert.is(r.requestsPerSecond, 52548.74);
  assert.is(r.p50Ms, 0.154);
  assert.is(r.p99Ms, 3.57);
  assert.is(r.requests, 105129);
  assert.is(r.errors, 0);
});

test('wrk errors are counted and a report without latency is refused', () => {
  const withErrors = `${fixture('wrk-latency.txt')}  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 5\n`;
  assert.is(parseWrk(withErrors).errors, 10);
  assert.throws(() => parseWrk('Requests/sec:  10\n'), /--latency/);
  assert.throws(() => parseWrk('curl: (7) Failed'), /not a wrk report/);
});

test('smaps_rollup captured from a running process', () => {
  const m = parseSmapsRollup(fixture('smaps-rollup.txt'));
  assert.ok(m.rssKb > 0);
  assert.ok(m.privateKb > 0 && m.privateKb <= m.rssKb);
  assert.ok(m.sharedCleanKb <= m.rssKb);
  assert.is(m.anonKb, 108); // what the process allocated itself; the rest of Rss is file pages
});

test.run();
