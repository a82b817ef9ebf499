import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseLedMode, levelAt, LED_PATTERNS } from '../../../../agent/indicator/led-patterns.ts';

test('the LED mode follows what matters most to a person at the box', () => {
  const base = { started: true, health: 'ok' as const, pairingOpen: false, hotspot: false };
  assert.is(chooseLedMode(base), 'ok');
  assert.is(chooseLedMode({ ...base, health: 'degraded' }), 'degraded');
  assert.is(chooseLedMode({ ...base, started: false, health: 'starting' }), 'booting');
  assert.is(chooseLedMode({ ...base, hotspot: true, health: 'degraded' }), 'hotspot');
  assert.is(chooseLedMode({ ...base, hotspot: true, pairingOpen: true }), 'pairing');
});

test('levels over time: slow blink while booting, solid when ok, double blink when degraded', () => {
  assert.equal(levelAt(LED_PATTERNS.booting, 0), { level: 1, nextChangeMs: 500 });
  assert.equal(levelAt(LED_PATTERNS.booting, 700), { level: 0, nextChangeMs: 300 });
  assert.equal(levelAt(LED_PATTERNS.booting, 1200), { level: 1, nextChangeMs: 300 });
  assert.equal(levelAt(LED_PATTERNS.ok, 123_456), { level: 1, nextChangeMs: Infinity });
  const degraded = [0, 160, 310, 460, 1400, 1510].map((t) => levelAt(LED_PATTERNS.degraded, t).level);
  assert.equal(degraded, [1, 0, 1, 0, 0, 1]);
  assert.is(levelAt(LED_PATTERNS.pairing, 150).level, 0);
});

test('every pattern is distinguishable: no two modes share one', () => {
  const keys = Object.values(LED_PATTERNS).map((p) => JSON.stringify(p));
  assert.is(new Set(keys).size, keys.length);
});

test.run();
