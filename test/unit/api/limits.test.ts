// Denial of service by a LAN neighbour: a request that never finishes arriving is cut off (Fastify's
// requestTimeout was 0), a long-lived event stream is not, and asking the radio to rescan needs the
// token. Timeouts are short here (the app takes them as options) so the test waits on the server's
// own close, not on a clock.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../api/app.ts';
import { HTTP_LIMITS } from '../../../api/http-limits.ts';
import { createTestStation, type TestStation } from '../../helpers/system.ts';

const t = suite<{ station: TestStation; app: FastifyInstance; port: number }>('http limits');
t.before(async (ctx) => {
  ctx.station = await createTestStation();
  ctx.app = await buildApp({ system: ctx.station.system, limits: { requestTimeoutMs: 600, headersTimeoutMs: 600, checkIntervalMs: 100 } });
  await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  ctx.port = (ctx.app.server.address() as { port: number }).port;
});
t.after(async (ctx) => {
  await ctx.app.close();
  await ctx.station.close();
});

/** Opens a connection, sends `text` and never more; resolves with what the server said when it closed the connection. */
async function stall(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text);
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk;
  });
  const closed = once(socket, 'close');
  const guard = setTimeout(() => socket.destroy(new Error('the server never closed a stalled request')), 20_000);
  try {
    await closed;
  } finally {
    clearTimeout(guard);
  }
  return answer;
}

t('the defaults bound every phase of a request, and keep bodies small', ({ station }) => {
  assert.ok(HTTP_LIMITS.requestTimeoutMs > 0 && HTTP_LIMITS.requestTimeoutMs <= 60_000);
  assert.ok(HTTP_LIMITS.headersTimeoutMs > 0 && HTTP_LIMITS.headersTimeoutMs <= HTTP_LIMITS.requestTimeoutMs);
  assert.ok(HTTP_LIMITS.keepAliveTimeoutMs > 0 && HTTP_LIMITS.keepAliveTimeoutMs <= 30_000);
  assert.ok(HTTP_LIMITS.bodyLimitBytes <= 4 * 1024 * 1024);
  const server = station.app.server;
  assert.is(server.requestTimeout, HTTP_LIMITS.requestTimeoutMs, "the station's own app uses them");
  assert.is(server.headersTimeout, HTTP_LIMITS.headersTimeoutMs);
  assert.is(server.keepAliveTimeout, HTTP_LIMITS.keepAliveTimeoutMs);
  assert.is(station.app.initialConfig.bodyLimit, HTTP_LIMITS.bodyLimitBytes);
});

t('a body that never finishes arriving is answered 408 in the error shape and the connection closed', async ({ station, port }) => {
  const answer = await stall(
    port,
    `POST /api/v1/session/check HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${station.token}\r\nContent-Type: ` +
      `application/json\r\nContent-Length: 100\r\n\r\n{`,
  );
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.is(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code, 'REQUEST_TIMEOUT');
});

t('headers that never finish, or a connection that sends nothing, are closed', async ({ port }) => {
  assert.match(await stall(port, 'GET /api/v1/status HTTP/1.1\r\nHost: loc'), /^(HTTP\/1\.1 408 [\s\S]*|)$/);
  assert.match(await stall(port, ''), /^(HTTP\/1\.1 408 [\s\S]*|)$/);
});

t('an event stream outlives the request timeout', async ({ station, port }) => {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`);
  const reader = res.body!.getReader();
  await reader.read();
  await stall(port, 'GET /api/v1/status HTTP/1.1\r\nHost: loc'); // the timeout checker has run past the stream's deadline
  station.system.events.publish('wifi.forgotten', { name: 'test.still-here' });
  let text = '';
  while (!text.includes('test.still-here')) {
    const chunk = await reader.read();
    assert.not.ok(chunk.done, 'the stream was not cut');
    text += new TextDecoder().decode(chunk.value);
  }
  await reader.cancel();
});

t('?rescan=yes (the radio scans, seconds of work) needs the token; the cached list does not', async ({ station }) => {
  const rescan = await station.app.inject({ url: '/api/v1/wifi/networks?rescan=yes' });
  assert.is(rescan.statusCode, 401, rescan.body);
  assert.is(rescan.json().error.code, 'UNAUTHORIZED');
  assert.is((await station.app.inject({ method: 'HEAD', url: '/api/v1/wifi/networks?rescan=yes' })).statusCode, 401, 'HEAD too');
  assert.is((await station.app.inject({ method: 'HEAD', url: '/api/v1/nodes/web/logs' })).statusCode, 401, 'and HEAD of a read that needs the token');
  // Wi-Fi is off in this test station: past the token check the answer is 503 with the reason.
  const withToken = await station.app.inject({
    url: '/api/v1/wifi/networks?rescan=yes',
    headers: { authorization: `Bearer ${station.token}` },
  });
  assert.not.equal(withToken.statusCode, 401, withToken.body);
  const cached = await station.app.inject({ url: '/api/v1/wifi/networks' });
  assert.not.equal(cached.statusCode, 401, cached.body);
  // The setup page scans without a token when its request came over the hotspot (as it joins
  // without one there); a LAN caller still needs the token while the hotspot is open.
  // Double: no Wi-Fi radio here to open a real hotspot, so the subsystem's answer is set.
  const overHotspot = '198.18.77.20';
  Object.defineProperty(station.system.wifi, 'arrivedOnHotspot', {
    value: (remote: string | undefined) => remote === overHotspot,
    configurable: true,
  });
  try {
    const onHotspot = await station.app.inject({ url: '/api/v1/wifi/networks?rescan=yes', remoteAddress: overHotspot });
    assert.not.equal(onHotspot.statusCode, 401, onHotspot.body);
    const fromLan = await station.app.inject({ url: '/api/v1/wifi/networks?rescan=yes', remoteAddress: '198.18.5.5' });
    assert.is(fromLan.statusCode, 401, 'a LAN caller while the hotspot is open');
  } finally {
    delete (station.system.wifi as { arrivedOnHotspot?: unknown }).arrivedOnHotspot;
  }
  assert.is((await station.app.inject({ url: '/api/v1/wifi/networks?rescan=yes' })).statusCode, 401);
});

t.run();
