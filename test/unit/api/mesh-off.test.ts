// The mesh turned off by the owner (STATION_DISABLE=mesh): every mesh route says so with 503
// MESH_UNAVAILABLE; it once answered 500 (its state was never loaded), found by the route fuzzer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestStation } from '../../helpers/system.ts';

test('mesh routes answer 503 MESH_UNAVAILABLE when the mesh is off', async () => {
  const station = await createTestStation(); // only hardware runs: the mesh is off
  try {
    const auth = { authorization: `Bearer ${station.token}` };
    for (const [method, url] of [
      ['GET', '/api/v1/mesh'],
      ['GET', '/api/v1/mesh/peers'],
      ['POST', '/api/v1/mesh/leave'],
      ['POST', '/api/v1/mesh/peers/s2/revoke'],
    ] as const) {
      const res = await station.app.inject({
        method,
        url,
        headers: method === 'POST' ? { ...auth, 'content-type': 'application/json' } : {},
        payload: method === 'POST' ? '{}' : undefined,
      });
      assert.is(res.statusCode, 503, `${method} ${url}: ${res.body}`);
      assert.is(res.json().error.code, 'MESH_UNAVAILABLE');
    }
  } finally {
    await station.close();
  }
});

test.run();
