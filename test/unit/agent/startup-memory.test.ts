import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInNewContext } from 'node:vm';
import { collectGarbage, keepTickObjectClasses } from '../../../agent/startup-memory.ts';

test('one tick object of each kind is kept, and the hook that caught them is off again', async () => {
  assert.is(keepTickObjectClasses(), 4);
  await new Promise((r) => setTimeout(r, 10));
  process.nextTick(() => {});
  assert.is(keepTickObjectClasses(), 4, 'later ticks are not caught (and a second call keeps what it has)');
});

test('the collection frees old-generation garbage and leaves gc() hidden from code', () => {
  // Survivors of young collections are promoted; dropping them leaves old-generation garbage.
  let keep: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
  for (let i = 0; i < 50; i++) Array.from({ length: 10_000 }, () => ({}));
  keep = null;
  const before = process.memoryUsage().heapUsed;
  collectGarbage();
  assert.ok(process.memoryUsage().heapUsed < before - 5 * 2 ** 20, 'at least 5 MB collected');
  assert.is(keep, null);
  assert.is(runInNewContext('typeof gc'), 'undefined');
  assert.is(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});

test.run();
