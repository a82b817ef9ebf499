// agent/coalesce.ts: many callers asking for the same expensive read (lxc-info behind GET
// /nodes/:name) share one run, and its answer for a short while; failures are not kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Coalescer } from '../../../agent/coalesce.ts';

function counter() {
  const calls: string[] = [];
  let release: (() => void) | undefined;
  const load = (key: string, value: string) => () => {
    calls.push(key);
    return new Promise<string>((resolve) => {
      release = () => resolve(value);
    });
  };
  return { calls, load, release: () => release!() };
}

test('concurrent callers share one run; later callers within the life get the same answer', async () => {
  let now = 0;
  const c = new Coalescer<string>({ ttlMs: 1000, now: () => now });
  const { calls, load, release } = counter();
  const pending = Array.from({ length: 50 }, () => c.get('web', load('web', 'v1')));
  release();
  assert.equal(await Promise.all(pending), Array(50).fill('v1'));
  assert.equal(calls, ['web']);
  now = 999;
  assert.is(await c.get('web', load('web', 'v2')), 'v1');
  assert.equal(calls, ['web'], 'still within its life');
  now = 1000;
  const next = c.get('web', load('web', 'v2'));
  release();
  assert.is(await next, 'v2', 'after its life the read runs again');
  assert.equal(calls, ['web', 'web']);
});

test('keys are separate; forget drops an answer at once', async () => {
  const c = new Coalescer<string>({ ttlMs: 60_000 });
  const { calls, load, release } = counter();
  const a = c.get('a', load('a', 'A'));
  release();
  const b = c.get('b', load('b', 'B'));
  release();
  assert.equal([await a, await b], ['A', 'B']);
  c.forget('a');
  const again = c.get('a', load('a', 'A2'));
  release();
  assert.is(await again, 'A2');
  assert.is(await c.get('b', load('b', 'B2')), 'B');
  assert.equal(calls, ['a', 'b', 'a']);
});

test('a failure is shared by those waiting on it, then forgotten', async () => {
  const c = new Coalescer<string>({ ttlMs: 60_000 });
  let runs = 0;
  const failing = () => {
    runs++;
    return Promise.reject(new Error('lxc-info failed'));
  };
  const results = await Promise.allSettled([c.get('x', failing), c.get('x', failing)]);
  assert.equal(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.is(runs, 1);
  assert.is(await c.get('x', async () => 'ok'), 'ok', 'the next caller tries again');
});

test('memory is bounded: the oldest answers go first', async () => {
  const c = new Coalescer<number>({ ttlMs: 60_000, maxKeys: 3 });
  for (const k of [1, 2, 3, 4]) await c.get(String(k), async () => k);
  assert.is(c.size, 3);
  let ran = false;
  assert.is(
    await c.get('1', async () => {
      ran = true;
      return 10;
    }),
    10,
  );
  assert.ok(ran, 'the oldest was dropped');
});

test.run();
