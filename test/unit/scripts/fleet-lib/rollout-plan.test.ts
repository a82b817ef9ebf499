import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable, judgeWave, pickCanaries, type FleetDevice } from '../../../../scripts/fleet-lib/rollout-plan.ts';

const device = (i: number, over: Partial<FleetDevice> = {}): FleetDevice => ({
  id: i,
  uuid: `${i}`.padStart(4, '0'),
  name: `station-${i}`,
  online: true,
  runningRelease: 1,
  pinnedRelease: null,
  health: 'ok',
  version: '0.1.0',
  nodesRunning: 1,
  nodesTotal: 2,
  ...over,
});

test('pickCanaries: a fraction of the online stations, by uuid, at least one', () => {
  const devices = [device(3), device(1), device(2, { online: false }), device(4), device(5)];
  assert.equal(
    pickCanaries(devices, 0.25).map((d) => d.id),
    [1],
  );
  assert.equal(
    pickCanaries(devices, 0.5).map((d) => d.id),
    [1, 3],
  );
  assert.equal(
    pickCanaries(devices, 1).map((d) => d.id),
    [1, 3, 4, 5],
  );
  assert.equal(pickCanaries([device(1, { online: false })], 0.5), []);
});

test('pickCanaries: a fraction outside (0, 1] is an error', () => {
  assert.throws(() => pickCanaries([device(1)], 0), /more than 0 and at most 1/);
  assert.throws(() => pickCanaries([device(1)], 1.5), /more than 0 and at most 1/);
  assert.throws(() => pickCanaries([device(1)], Number.NaN), /more than 0/);
});

test('judgeWave: waiting until each runs the release and reports ok; unhealthy as soon as one reports otherwise', () => {
  assert.equal(judgeWave([device(1), device(2)], 9), { state: 'waiting', pending: ['station-1', 'station-2'] });
  assert.equal(judgeWave([device(1, { runningRelease: 9 }), device(2)], 9), { state: 'waiting', pending: ['station-2'] });
  assert.equal(judgeWave([device(1, { runningRelease: 9, health: 'handing-over' })], 9), { state: 'waiting', pending: ['station-1'] });
  assert.equal(judgeWave([device(1, { runningRelease: 9 }), device(2, { runningRelease: 9, health: 'degraded' })], 9), {
    state: 'unhealthy',
    failed: ['station-2 (degraded)'],
  });
  assert.equal(judgeWave([device(1, { runningRelease: 9 }), device(2, { runningRelease: 9 })], 9), { state: 'healthy' });
});

test('formatTable: one aligned row per station, unknowns shown as ?', () => {
  const table = formatTable([device(1), device(22, { health: null, nodesTotal: null, pinnedRelease: 9 })], (id) => (id === null ? '?' : `r${id}`));
  const lines = table.split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^NAME\s+UUID\s+ONLINE\s+RELEASE\s+PINNED\s+HEALTH\s+VERSION\s+NODES$/);
  assert.match(lines[1]!, /^station-1\s+0001\s+yes\s+r1\s+-\s+ok\s+0\.1\.0\s+1\/2$/);
  assert.match(lines[2]!, /^station-22\s+0022\s+yes\s+r1\s+r9\s+\?\s+0\.1\.0\s+\?$/);
  assert.equal(lines[1]!.indexOf('0001'), lines[0]!.indexOf('UUID'));
});

test.run();
