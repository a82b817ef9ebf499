import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeCounts, parseStationTags, stationTags } from '../../../../agent/fleet/tags.ts';

test('tags carry health, version, name and node counts; read back the same', () => {
  const tags = stationTags({ name: 'station-ab12', version: '0.2.0', health: 'degraded', nodes: { total: 3, running: 2 }, owner: true });
  assert.equal(tags, {
    'station.name': 'station-ab12',
    'station.version': '0.2.0',
    'station.health': 'degraded',
    'station.nodes.running': '2',
    'station.nodes.total': '3',
  });
  const back = parseStationTags(Object.entries(tags).map(([tag_key, value]) => ({ tag_key, value })));
  assert.equal(back, { name: 'station-ab12', version: '0.2.0', health: 'degraded', nodesRunning: 2, nodesTotal: 3 });
});

test('an agent waiting in a hand-over reports handing-over; no node tags without counts', () => {
  const tags = stationTags({ name: 's', version: '1', health: 'ok', nodes: null, owner: false });
  assert.equal(tags['station.health'], 'handing-over');
  assert.not.ok('station.nodes.total' in tags);
});

test('parseStationTags ignores other tags and bad numbers', () => {
  assert.equal(
    parseStationTags([
      { tag_key: 'room', value: 'attic' },
      { tag_key: 'station.nodes.total', value: 'x' },
    ]),
    { name: null, version: null, health: null, nodesRunning: null, nodesTotal: null },
  );
});

test('nodeCounts reads the node summary; null when the node subsystem is off', () => {
  assert.equal(nodeCounts({ nodes: { total: 4, running: 1 } }), { total: 4, running: 1 });
  assert.equal(nodeCounts({ nodes: { available: false } }), null);
  assert.equal(nodeCounts({}), null);
});

test.run();
