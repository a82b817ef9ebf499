// A slow box: one reading that never answers, or fails, must not take the others with it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectWithin } from '../../../hardware/within.ts';

test('readings that answer in time are kept; a hung one is named as missing', async () => {
  const started = Date.now();
  const { values, missing } = await collectWithin<{ cpu: number; temperature: number; mem: number }>(
    {
      cpu: async () => 4,
      temperature: () => new Promise<number>(() => {}), // a sensor read that never returns
      mem: async () => 1024,
    },
    200,
  );
  assert.equal(values, { cpu: 4, mem: 1024 });
  assert.equal(missing, ['temperature: no answer within 0 s']);
  assert.ok(Date.now() - started < 5_000, 'the hung reading does not hold the rest back beyond its budget');
});

test('a reading that fails is named with its error', async () => {
  const { values, missing } = await collectWithin<{ a: string; b: string }>(
    {
      a: async () => {
        throw new Error('EACCES: /sys/class/thermal');
      },
      b: async () => 'ok',
    },
    1_000,
  );
  assert.equal(values, { b: 'ok' });
  assert.equal(missing, ['a: EACCES: /sys/class/thermal']);
});

test.run();
