// The copy store's routes are for the owner's stations over the mesh only: from anywhere else
// (here: the loopback, as from the LAN) every one is refused with 403, token or not, and a station
// whose mesh or disk room is turned off answers 403/503, never 500.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestStation } from '../../../../helpers/system.ts';

const calls = [
  ['POST', '/api/v1/disk/store/grant', '{}'],
  ['POST', '/api/v1/disk/store/grant', '{"readFrom":"s2"}'],
  ['GET', '/api/v1/disk/store', undefined],
  ['GET', '/api/v1/disk/store/holdings', undefined],
] as const;

for (const enable of [['hardware', 'mesh', 'disk'], ['hardware']]) {
  test(`not over the mesh: 403 (running: ${enable.join(', ')})`, async () => {
    const station = await createTestStation({ enable });
    try {
      for (const [method, url, payload] of calls) {
        for (const headers of [{}, { authorization: `Bearer ${station.token}` }]) {
          const res = await station.app.inject({ method, url, payload, headers: payload ? { ...headers, 'content-type': 'application/json' } : headers });
          assert.ok([403, 503].includes(res.statusCode), `${method} ${url}: ${res.statusCode} ${res.body}`);
          if (enable.includes('mesh')) assert.is(res.json().error.code, 'MESH_IDENTITY_REQUIRED', res.body);
          assert.not.match(res.body, /password/);
        }
      }
    } finally {
      await station.close();
    }
  });
}

test('a bad body is refused before anything is looked at', async () => {
  const station = await createTestStation({ enable: ['hardware', 'mesh', 'disk'] });
  try {
    for (const payload of ['{"readFrom":"../x"}', '{"readFrom":5}', '{"other":1}']) {
      const res = await station.app.inject({ method: 'POST', url: '/api/v1/disk/store/grant', payload, headers: { 'content-type': 'application/json' } });
      assert.is(res.statusCode, 400, `${payload}: ${res.body}`);
    }
  } finally {
    await station.close();
  }
});

test.run();
