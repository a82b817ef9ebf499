// The API contract, checked over every route the app has (so routes added later are covered too):
// mutations need the token, bad bodies get 400 in the error shape, unknown routes 404, no stack traces.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { createTestStation, type TestStation } from '../../helpers/system.ts';

const api = suite<{ station: TestStation }>('api contract');

api.before(async (ctx) => {
  ctx.station = await createTestStation();
});
api.after(async (ctx) => {
  await ctx.station.close();
});

type Operation = { method: string; path: string; url: string; security?: unknown[]; hasBody: boolean };

async function operations(station: TestStation): Promise<Operation[]> {
  const doc = (await station.app.inject({ url: '/api/openapi.json' })).json() as {
    paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>;
  };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      // Path parameters get a plausible value; the route must refuse before doing anything.
      const url = path.replace(/\{[^}]+\}/g, 'contract-test');
      ops.push({ method: method.toUpperCase(), path, url, security: op.security, hasBody: op.requestBody !== undefined });
    }
  }
  return ops;
}

const isErrorShape = (body: unknown): boolean => {
  const e = (body as { error?: { code?: unknown; message?: unknown } }).error;
  return typeof e?.code === 'string' && typeof e?.message === 'string';
};

api('the contract routes exist and are documented', async ({ station }) => {
  const paths = (await operations(station)).map((o) => `${o.method} ${o.path}`);
  for (const expected of [
    'GET /api/v1/health',
    'GET /api/v1/ready',
    'GET /api/v1/status',
    'GET /api/v1/hardware',
    'GET /api/v1/events',
    'GET /api/v1/metrics',
  ]) {
    assert.ok(paths.includes(expected), `${expected} is in the OpenAPI document`);
  }
});

api('every mutation without a token, or with a wrong one, is refused with 401', async ({ station }) => {
  const mutations = (await operations(station)).filter(
    (o) => o.method !== 'GET' && o.method !== 'HEAD' && !(Array.isArray(o.security) && o.security.length === 0),
  );
  for (const route of ['POST /api/v1/nodes', 'DELETE /api/v1/nodes/{name}', 'POST /api/v1/nodes/{name}/exec', 'POST /api/v1/mesh/invites']) {
    assert.ok(
      mutations.some((o) => `${o.method} ${o.path}` === route),
      `${route} is swept`,
    );
  }
  for (const op of mutations) {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${station.token}` }]) {
      const res = await station.app.inject({
        method: op.method as 'POST',
        url: op.url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: '{}',
        remoteAddress: `198.18.9.${mutations.indexOf(op) % 250}`,
      });
      assert.is(res.statusCode, 401, `${op.method} ${op.path} ${JSON.stringify(headers)}`);
      assert.ok(isErrorShape(res.json()));
    }
  }
});

api('malformed JSON and wrong body types on every route with a body are 400 in the error shape', async ({ station }) => {
  const withBody = (await operations(station)).filter((o) => o.hasBody);
  assert.ok(withBody.length >= 8, `${withBody.length} routes with a body are swept`);
  for (const op of withBody) {
    const headers = { authorization: `Bearer ${station.token}`, 'content-type': 'application/json' };
    for (const payload of ['{"name": ', '[1,2', '42', '[]', '"text"', '{"surely-unknown-field": true}']) {
      const res = await station.app.inject({ method: op.method as 'POST', url: op.url, headers, payload });
      assert.is(res.statusCode, 400, `${op.method} ${op.path} with ${payload} -> ${res.body}`);
      assert.ok(isErrorShape(res.json()), res.body);
      assert.not.match(res.body, /at .*\.(ts|js):\d+/, 'no stack trace');
    }
  }
});

api('an empty body with content-type: application/json is no body, not malformed JSON (clients send the header on every call)', async ({ station }) => {
  const mutations = (await operations(station)).filter((o) => o.method !== 'GET');
  assert.ok(
    mutations.some((o) => o.method === 'DELETE'),
    'DELETE routes are swept',
  );
  for (const op of mutations) {
    for (const payload of ['', ' \r\n']) {
      const res = await station.app.inject({
        method: op.method as 'POST',
        url: op.url,
        headers: { authorization: `Bearer ${station.token}`, 'content-type': 'application/json' },
        payload,
      });
      assert.is.not(res.json().error?.code, 'INVALID_JSON', `${op.method} ${op.path} -> ${res.body}`);
      // Routes that need a body say so as a validation error; the rest take none or an optional one.
      if (res.statusCode === 400) assert.is(res.json().error.code, 'INVALID_REQUEST', `${op.method} ${op.path} -> ${res.body}`);
    }
  }
  // A call that takes no arguments works with no body at all, an empty one, or {}.
  for (const contentType of [undefined, 'application/json', 'application/json; charset=utf-8']) {
    for (const payload of ['', '{}']) {
      if (payload && !contentType) continue;
      const headers = { authorization: `Bearer ${station.token}`, ...(contentType ? { 'content-type': contentType } : {}) };
      const check = await station.app.inject({ method: 'POST', url: '/api/v1/session/check', headers, payload });
      assert.is(check.statusCode, 200, `${contentType} ${JSON.stringify(payload)} -> ${check.body}`);
    }
  }
  const create = await station.app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    headers: { authorization: `Bearer ${station.token}`, 'content-type': 'application/json' },
    payload: '',
  });
  assert.is(create.statusCode, 400, 'a route that needs a body still says so');
  assert.match(create.json().error.message, /name/);
});

api('unknown routes are 404 in the error shape', async ({ station }) => {
  const res = await station.app.inject({ url: '/api/v1/no-such-thing' });
  assert.is(res.statusCode, 404);
  assert.is(res.json().error.code, 'ROUTE_NOT_FOUND');
});

api('repeated failed authentication is rate limited with Retry-After', async ({ station }) => {
  const hit = () =>
    station.app.inject({
      method: 'POST',
      url: '/api/v1/anything',
      headers: { authorization: 'Bearer guess' },
      remoteAddress: '198.18.200.1',
    });
  for (let i = 0; i < station.system.config.authFailureLimit; i++) assert.is((await hit()).statusCode, 401);
  const blocked = await hit();
  assert.is(blocked.statusCode, 429);
  assert.is(blocked.json().error.code, 'TOO_MANY_REQUESTS');
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  const other = await station.app.inject({
    method: 'POST',
    url: '/api/v1/anything',
    headers: { authorization: `Bearer ${station.token}` },
    remoteAddress: '198.18.200.2',
  });
  assert.is(other.statusCode, 404, 'another client with the right token is not blocked');
});

api('health, ready and status describe this station', async ({ station }) => {
  assert.equal((await station.app.inject({ url: '/api/v1/health' })).json().status, 'alive');
  const ready = await station.app.inject({ url: '/api/v1/ready' });
  assert.is(ready.statusCode, 200);
  await station.system.hardware.refresh();
  const status = (await station.app.inject({ url: '/api/v1/status' })).json();
  assert.is(status.name, 'test');
  assert.is(status.domain, 'mesh.internal');
  assert.ok(status.ready);
  assert.ok(status.hardware.cpuCores >= 1);
  assert.ok(status.subsystems.some((s: { name: string; state: string }) => s.name === 'hardware' && s.state === 'ok'));
  for (const s of status.subsystems.filter((x: { name: string }) => x.name !== 'hardware')) {
    assert.is(s.state, 'off');
    assert.match(s.reason, /STATION_DISABLE/);
  }
});

api('the hardware report is this machine, with reasons for every capability', async ({ station }) => {
  const hw = (await station.app.inject({ url: '/api/v1/hardware' })).json();
  const { cpus } = await import('node:os');
  assert.is(hw.cpu.cores, cpus().length);
  assert.ok(hw.capabilities.length >= 8);
  for (const c of hw.capabilities) assert.type(c.reason, 'string');
});

api('metrics are Prometheus text', async ({ station }) => {
  const res = await station.app.inject({ url: '/api/v1/metrics' });
  assert.match(String(res.headers['content-type']), /text\/plain/);
  assert.match(res.body, /^# TYPE station_info gauge$/m);
  assert.match(res.body, /^station_info\{name="test",version="[^"]+"\} 1$/m);
  assert.match(res.body, /^process_resident_memory_bytes \d+$/m);
});

api.run();
