// A disk part's background work: the tick repeats until stop(), and stop() waits for every task
// still running (one that fails too) so nothing runs on into a stopped part.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setImmediate as turn } from 'node:timers/promises';
import { PartWork } from '../../../../agent/disk/part-work.ts';
import { waitFor } from '../../../helpers/wait.ts';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('the tick repeats until stop, and not after', async () => {
  const work = new PartWork();
  let ticks = 0;
  work.every(1, () => ticks++);
  await waitFor('two ticks', async () => ticks >= 2, 5_000, 1);
  await work.stop();
  const atStop = ticks;
  await new Promise((r) => setTimeout(r, 20));
  assert.is(ticks, atStop);
});

test('stop waits for the tasks still running, a failing one included', async () => {
  const work = new PartWork();
  const slow = deferred();
  const failing = deferred();
  const result = work.track(slow.promise.then(() => 'done'));
  work.track(failing.promise).catch(() => undefined);
  let stopped = false;
  const stopping = work.stop().then(() => (stopped = true));
  failing.reject(new Error('a failed run'));
  await turn();
  assert.is(stopped, false, 'stopped while a task still runs');
  slow.resolve();
  await stopping;
  assert.is(stopped, true);
  assert.is(await result, 'done', 'track hands the task back as it is');
});

test.run();
