// DNS rebinding: a web page a family member visits can point its own name at the station and then
// talk to the API as if it were same-origin. The station answers only to its own names and
// addresses (421 HOST_NOT_ALLOWED otherwise, every route but the health check), and a
// state-changing request from a browser must come from a page of the station (403 ORIGIN_NOT_ALLOWED).
// Every route is enumerated from the app itself, so routes added later are covered too.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { networkInterfaces } from 'node:os';
import { createTestStation, type TestStation } from '../../helpers/system.ts';

const t = suite<{ station: TestStation }>('host and origin');
t.before(async (ctx) => {
  ctx.station = await createTestStation();
});
t.after(async (ctx) => {
  await ctx.station.close();
});

const MUTATING = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** Every method and path the app serves, read from Fastify's own route tree (page, probes and document included). */
function allRoutes(station: TestStation): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of station.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+) \(([A-Z, ]+)\)$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/^\/?/, '/');
    for (const method of m[3]!.split(', ')) routes.push({ method, url: path.replace(/:[a-z]+/gi, 'rebind-test') });
  }
  return routes;
}

const isErrorShape = (body: unknown, code: string): boolean =>
  (body as { error?: { code?: string; message?: unknown } }).error?.code === code &&
  typeof (body as { error: { message?: unknown } }).error.message === 'string';

t('the route tree is read (guards the sweeps below)', ({ station }) => {
  const routes = allRoutes(station).map((r) => `${r.method} ${r.url}`);
  for (const expected of [
    'GET /api/v1/health',
    'GET /api/v1/nodes/rebind-test/logs',
    'POST /api/v1/pairing/session',
    'POST /api/v1/wifi/connect',
    'DELETE /api/v1/wifi/networks/rebind-test',
    'GET /',
    'GET /generate_204',
    'GET /api/openapi.json',
    'GET /api/v1/events',
  ]) {
    assert.ok(routes.includes(expected), `${expected} in ${routes.length} routes`);
  }
});

t('a foreign Host gets 421 HOST_NOT_ALLOWED on every route but the health check', async ({ station }) => {
  const routes = allRoutes(station);
  assert.ok(routes.length > 60, `${routes.length} routes swept`);
  for (const { method, url } of routes) {
    for (const host of ['evil.example', 'evil.example:8088', 'test.local.evil.example', '203.0.113.9']) {
      const headers: Record<string, string> = { host, authorization: `Bearer ${station.token}` };
      const res = await station.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(MUTATING.includes(method) ? { payload: {} } : {}),
      });
      if (url === '/api/v1/health' && (method === 'GET' || method === 'HEAD')) {
        assert.is(res.statusCode, 200, `${method} ${url} stays open for monitors`);
        continue;
      }
      assert.is(res.statusCode, 421, `${method} ${url} with Host ${host} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (method !== 'HEAD') assert.ok(isErrorShape(res.json(), 'HOST_NOT_ALLOWED'), res.body);
    }
  }
  const unknown = await station.app.inject({ method: 'POST', url: '/api/v1/no-such-route', headers: { host: 'evil.example' } });
  assert.is(unknown.statusCode, 421, 'unknown routes too');
});

t('URLs the router refuses itself (bad percent-encoding, an over-long parameter) get 421 for a foreign Host, else the error shape', async ({ station }) => {
  for (const url of ['/api/v1/nodes/%zz', `/api/v1/nodes/${'a'.repeat(150)}`]) {
    const foreign = await station.app.inject({ url, headers: { host: 'evil.example' } });
    assert.is(foreign.statusCode, 421, `${url} -> ${foreign.body}`);
    assert.ok(isErrorShape(foreign.json(), 'HOST_NOT_ALLOWED'), foreign.body);
    const own = await station.app.inject({ url });
    assert.ok(own.statusCode === 400 || own.statusCode === 414, `${url} -> ${own.statusCode}`);
    assert.ok(isErrorShape(own.json(), own.statusCode === 400 ? 'BAD_URL' : 'URI_TOO_LONG'), own.body);
    assert.not.match(own.body, /aaaaaaaaaa|%zz/, 'the URL is not echoed');
  }
});

t("the station's own names and addresses are accepted, with any port", async ({ station }) => {
  const hosts = ['test', 'test.local', 'TEST.LOCAL.', 'test.mesh.internal:8088', 'localhost', 'localhost:8088', '127.0.0.1:8088', '[::1]:8088'];
  for (const a of Object.values(networkInterfaces()).flat()) if (a) hosts.push(a.family === 'IPv6' ? `[${a.address}]:80` : `${a.address}:80`);
  for (const host of hosts) {
    const res = await station.app.inject({ url: '/api/v1/status', headers: { host } });
    assert.is(res.statusCode, 200, `${host} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
});

t('names added with STATION_HTTP_ALLOWED_HOSTS and the public API name are accepted', async () => {
  const station = await createTestStation({
    env: { STATION_HTTP_ALLOWED_HOSTS: 'box.home.arpa,*.lan.example', STATION_MESH_PUBLIC_API: 'http://den.example.net:8088' },
  });
  try {
    for (const host of ['box.home.arpa:8088', 'den.lan.example', 'den.example.net:8088']) {
      assert.is((await station.app.inject({ url: '/api/v1/status', headers: { host } })).statusCode, 200, host);
    }
    assert.is((await station.app.inject({ url: '/api/v1/status', headers: { host: 'lan.example' } })).statusCode, 421);
  } finally {
    await station.close();
  }
});

t('a mutation from a foreign Origin is refused with 403 ORIGIN_NOT_ALLOWED before anything else, even with the token', async ({ station }) => {
  const mutations = allRoutes(station).filter((r) => MUTATING.includes(r.method));
  assert.ok(mutations.length > 20, `${mutations.length} mutations swept`);
  for (const { method, url } of mutations) {
    for (const origin of ['http://evil.example', 'http://test.local.evil.example:8088', 'null']) {
      for (const auth of [{}, { authorization: `Bearer ${station.token}` }]) {
        const res = await station.app.inject({ method: method as 'POST', url, headers: { origin, ...auth }, payload: {} });
        assert.is(res.statusCode, 403, `${method} ${url} from ${origin} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.ok(isErrorShape(res.json(), 'ORIGIN_NOT_ALLOWED'), res.body);
      }
    }
  }
});

t("a mutation from the station's own page, or without Origin (curl, the CLI), goes through", async ({ station }) => {
  const check = (headers: Record<string, string>) =>
    station.app.inject({
      method: 'POST',
      url: '/api/v1/session/check',
      headers: { authorization: `Bearer ${station.token}`, ...headers },
      payload: {},
    });
  for (const origin of ['http://test.local:8088', 'http://localhost:8088', 'http://127.0.0.1:8088'])
    assert.is((await check({ origin })).statusCode, 200, origin);
  assert.is((await check({})).statusCode, 200, 'no Origin');
  const anonymous = await station.app.inject({
    method: 'POST',
    url: '/api/v1/session/check',
    headers: { origin: 'http://test.local:8088' },
    payload: {},
  });
  assert.is(anonymous.statusCode, 401, 'an allowed Origin is no credential');
});

t('reads from a foreign page are not refused for their Origin (the browser keeps the answer from it)', async ({ station }) => {
  const res = await station.app.inject({ url: '/api/v1/status', headers: { origin: 'http://evil.example' } });
  assert.is(res.statusCode, 200);
  assert.is(res.headers['access-control-allow-origin'], undefined, 'no CORS grant');
});

t.run();
