import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyedSerialQueue, SerialQueue } from '../../../../agent/lib/serial-queue.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('tasks run one at a time in the order given; a failure does not stop the next', async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  let release!: () => void;
  const first = queue.run(async () => {
    log.push('a start');
    await new Promise<void>((r) => {
      release = r;
    });
    log.push('a end');
    throw new Error('a failed');
  });
  const second = queue.run(async () => {
    log.push('b');
    return 2;
  });
  await tick();
  assert.equal(log, ['a start'], 'b waits while a runs');
  assert.ok(queue.busy);
  release();
  assert.is(await first.catch((e: Error) => e.message), 'a failed');
  assert.is(await second, 2);
  assert.equal(log, ['a start', 'a end', 'b']);
  assert.not.ok(queue.busy);
});

test('keys are independent; a key is busy from the call until its last task ends', async () => {
  const queue = new KeyedSerialQueue();
  let release!: () => void;
  const slow = queue.run(
    'a',
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
  );
  assert.ok(queue.busy('a'), 'busy at once, before the task has even started');
  assert.is(await queue.run('b', async () => 'b ran'), 'b ran', 'another key does not wait');
  assert.ok(queue.busy('a'));
  release();
  await slow;
  assert.not.ok(queue.busy('a'));
});

test.run();
