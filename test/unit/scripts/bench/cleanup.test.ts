import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanupSteps } from '../../../../scripts/bench/lib/cleanup.ts';

test("a benchmark's tear-down undoes in reverse order, goes on past a failing step and says which failed", async () => {
  const lines: string[] = [];
  const done: string[] = [];
  const cleanup = cleanupSteps((line) => lines.push(line));
  cleanup.add({ what: 'namespace', run: async () => void done.push('namespace') });
  cleanup.add({
    what: 'pool',
    run: async () => {
      throw new Error('target is busy');
    },
  });
  cleanup.add({ what: 'agent', run: async () => void done.push('agent') });
  await cleanup.tearDown();
  assert.equal(done, ['agent', 'namespace']);
  assert.equal(lines, ['cleanup of pool failed: target is busy']);
  await cleanup.tearDown();
  assert.equal(done, ['agent', 'namespace'], 'each step runs once');
});

test('a tear-down asked for while one runs waits for it to finish (Ctrl-C while main fails)', async () => {
  const cleanup = cleanupSteps(() => undefined);
  let finished = false;
  cleanup.add({ what: 'testbed', run: () => new Promise((resolve) => setTimeout(resolve, 50)).then(() => void (finished = true)) });
  const first = cleanup.tearDown();
  await cleanup.tearDown();
  assert.ok(finished, 'the second caller returned only after the step ended');
  await first;
});

test.run();
