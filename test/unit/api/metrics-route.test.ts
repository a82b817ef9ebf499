// Prometheus finds the metrics at its default path, /metrics, as well as under /api/v1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestStation } from '../../helpers/system.ts';

test('/metrics and /api/v1/metrics serve the same Prometheus text', async () => {
  const station = await createTestStation();
  try {
    const root = await station.app.inject({ url: '/metrics' });
    const api = await station.app.inject({ url: '/api/v1/metrics' });
    assert.is(root.statusCode, 200);
    assert.match(root.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(root.body, /^# HELP station_/m);
    const names = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE'))
        .sort();
    assert.equal(names(root.body), names(api.body));
  } finally {
    await station.close();
  }
});

test.run();
