// GET /hardware never waits for detection: 503 with Retry-After until the first report, then the
// report at once (on a slow box the first detection takes a minute; clients time out long before).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestStation } from '../../helpers/system.ts';

test('before the first report: 503 HARDWARE_NOT_DETECTED with Retry-After, at once', async () => {
  const station = await createTestStation({ enable: [] }); // the hardware subsystem is off: no detection runs
  try {
    const started = Date.now();
    const res = await station.app.inject({ url: '/api/v1/hardware' });
    assert.is(res.statusCode, 503);
    assert.is(res.headers['retry-after'], '5');
    assert.is(res.json().error.code, 'HARDWARE_NOT_DETECTED');
    assert.match(res.json().error.message, /still running/);
    assert.ok(Date.now() - started < 1_000, 'answered without waiting for a detection');
  } finally {
    await station.close();
  }
});

test('after detection: the report, complete on this machine', async () => {
  const station = await createTestStation();
  try {
    await station.system.hardware.refresh();
    const res = await station.app.inject({ url: '/api/v1/hardware' });
    assert.is(res.statusCode, 200);
    assert.ok(res.json().cpu.cores >= 1);
    assert.is(res.json().partial, false, JSON.stringify(res.json().partialReasons));
  } finally {
    await station.close();
  }
});

test.run();
