// The reconcile loop's pause after a node's change fails: none after the first failure, then the
// base doubling to 5 min; the loop skips the node until then; one success ends the streak.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RetryBook, retryDelayMs, RETRY_MAX_MS } from '../../../../agent/nodes/retries.ts';

test('the pause: 0 after the first failure, then 5 s, 10 s, 20 s ... and never more than 5 min', () => {
  assert.equal(
    [1, 2, 3, 4, 5].map((n) => retryDelayMs(n)),
    [0, 5_000, 10_000, 20_000, 40_000],
  );
  assert.is(retryDelayMs(8), 300_000);
  assert.is(retryDelayMs(60), RETRY_MAX_MS, 'no overflow after a long streak');
  assert.equal(
    [1, 2, 3].map((n) => retryDelayMs(n, 500)),
    [0, 500, 1000],
    'a configured base',
  );
});

test('a failing node is skipped until its pause is over; a success clears the streak', () => {
  const book = new RetryBook(1000);
  const t0 = Date.parse('2026-12-04T12:00:00Z');
  book.failed('web', 'No space left on device', t0);
  assert.ok(book.due('web', t0), 'the first failure is retried by the next pass');
  book.failed('web', 'No space left on device', t0 + 10);
  assert.not.ok(book.due('web', t0 + 1009));
  assert.ok(book.due('web', t0 + 1010));
  assert.equal(book.get('web'), {
    message: 'No space left on device',
    failures: 2,
    failedAt: '2026-12-04T12:00:00.010Z',
    retryAt: '2026-12-04T12:00:01.010Z',
  });
  assert.equal(book.list(), ['web: No space left on device']);
  assert.ok(book.due('db', t0), 'a node that never failed is always due');
  book.clear('web');
  assert.is(book.get('web'), null);
  assert.is(book.message('web'), null);
  book.failed('web', 'again', t0 + 5000);
  assert.is(book.get('web')?.failures, 1, 'a new streak starts from one');
});

test.run();
