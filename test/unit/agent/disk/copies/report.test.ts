// What GET /disk shows of a node's copies: 3/3 green only when every wanted copy is current; a
// copy that failed since its last success, one on an offline peer, a damaged one or one not made
// yet is not counted, and the reason says why. The grant's password never appears.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CopyRecord } from '../../../../../agent/disk/copies/copies-state.ts';
import { copiesReport } from '../../../../../agent/disk/copies/report.ts';

const NOW = Date.parse('2026-12-04T20:00:00Z');
const copy = (station: string, more: Partial<CopyRecord> = {}): CopyRecord => ({
  station,
  repositoryBase: `rest:http://100.64.0.${station.length}:8713/s1.alice/`,
  user: 's1.alice',
  password: 'grant-secret',
  repository: 'web',
  initialized: true,
  placedAt: '2026-12-04T19:00:00Z',
  lastSuccess: '2026-12-04T19:59:00Z',
  lastSnapshot: 'abcd1234',
  lastSet: 'set-1',
  lastSetAt: '2026-12-04T19:58:20Z',
  bytes: 1000,
  lastError: null,
  lastErrorAt: null,
  lastCheck: null,
  damaged: false,
  ...more,
});

test('all wanted copies current: ok, with lag from the set each holds', () => {
  const r = copiesReport(2, [copy('s2'), copy('s3')], null, new Map(), NOW);
  assert.equal({ want: r.want, have: r.have, state: r.state, reason: r.reason }, { want: 2, have: 2, state: 'ok', reason: null });
  assert.equal(r.list[0], {
    station: 's2',
    state: 'ok',
    lastSuccess: '2026-12-04T19:59:00Z',
    lagSeconds: 100,
    bytes: 1000,
    snapshot: 'abcd1234',
    reason: null,
  });
  assert.not.match(JSON.stringify(r), 'grant-secret');
});

test('failing, offline, damaged and pending copies are not counted, and say why', () => {
  const r = copiesReport(
    3,
    [
      copy('s2', { lastError: 's2/web: the peer did not answer', lastErrorAt: '2026-12-04T19:59:30Z' }),
      copy('s3'),
      copy('s4', { damaged: true, lastError: 'check: Pack ID does not match' }),
      copy('s5', { lastSuccess: null, lastSnapshot: null, lastSetAt: null }),
    ],
    null,
    new Map([['s3', NOW - 1000]]),
    NOW,
  );
  assert.equal(
    r.list.map((c) => [c.station, c.state]),
    [
      ['s2', 'failing'],
      ['s3', 'lost'],
      ['s4', 'failing'],
      ['s5', 'pending'],
    ],
  );
  assert.equal({ have: r.have, state: r.state }, { have: 0, state: 'degraded' });
  assert.match(r.list[2]!.reason!, /damaged/);
  assert.is(r.list[3]!.lagSeconds, null);
});

test('an error older than the last success does not count against the copy', () => {
  const r = copiesReport(1, [copy('s2', { lastError: 'old', lastErrorAt: '2026-12-04T19:00:00Z' })], null, new Map(), NOW);
  assert.is(r.list[0]!.state, 'ok');
});

test('fewer copies than wanted: amber with the placement reason', () => {
  const r = copiesReport(3, [copy('s2'), copy('s3')], "2 of 3 copies: only 2 of the owner's other stations can take one (s4 offline)", new Map(), NOW);
  assert.equal({ have: r.have, state: r.state }, { have: 2, state: 'degraded' });
  assert.match(r.reason!, /s4 offline/);
});

test.run();
