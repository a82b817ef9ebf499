// station_disk_* as a scrape shows them: a node's wanted and current copies, each copy's lag and
// size, and this station's store; nodes without copies kept and stations without a store add nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diskSamples } from '../../../../agent/disk/metrics.ts';
import { MetricsRegistry } from '../../../../agent/metrics.ts';
import type { CopiesReport } from '../../../../agent/disk/overview.ts';

const web: CopiesReport = {
  want: 3,
  have: 1,
  state: 'degraded',
  reason: 's3 is offline',
  list: [
    { station: 's2', state: 'ok', lastSuccess: '2026-12-04T20:00:00Z', lagSeconds: 42, bytes: 1000, snapshot: 'abcd1234', reason: null },
    { station: 's3', state: 'lost', lastSuccess: null, lagSeconds: null, bytes: null, snapshot: null, reason: 's3 is offline' },
  ],
};

function scrape(store: ReturnType<Parameters<typeof diskSamples>[0]['store']>): string {
  const metrics = new MetricsRegistry();
  metrics.register(() => diskSamples({ nodes: () => ['web', 'plain'], copies: (n) => (n === 'web' ? web : null), store: () => store }));
  return metrics.render();
}

test('a node with one current copy of three: wanted 3, current 1, the live copy lag and bytes', () => {
  const text = scrape(null);
  assert.match(text, 'station_disk_copies_wanted{node="web"} 3');
  assert.match(text, 'station_disk_copies_current{node="web"} 1');
  assert.match(text, 'station_disk_copy_lag_seconds{node="web",station="s2"} 42');
  assert.match(text, 'station_disk_copy_bytes{node="web",station="s2"} 1000');
  assert.not.match(text, 'station="s3"', 'a copy never made has no lag or size to show');
  assert.not.match(text, 'node="plain"', 'a node without copies kept adds no samples');
  assert.not.match(text, 'station_disk_store', 'no store, no store samples');
});

test("the store's offer and what peers' copies take", () => {
  const text = scrape({ running: true, offerBytes: 10 * 2 ** 30, usedBytes: 5000, freeBytes: 10 * 2 ** 30 - 5000, reason: null });
  assert.match(text, 'station_disk_store_up 1');
  assert.match(text, `station_disk_store_offer_bytes ${10 * 2 ** 30}`);
  assert.match(text, 'station_disk_store_used_bytes 5000');
});

test.run();
