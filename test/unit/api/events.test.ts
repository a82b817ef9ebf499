// Server-sent events over a real socket: a client sees events as they are published, and a client
// reconnecting with Last-Event-ID gets what it missed.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createTestStation, type TestStation } from '../../helpers/system.ts';

const events = suite<{ station: TestStation; url: string }>('events');
events.before(async (ctx) => {
  ctx.station = await createTestStation();
  ctx.url = await ctx.station.app.listen({ host: '127.0.0.1', port: 0 });
});
events.after(async (ctx) => {
  await ctx.station.close();
});

async function readUntil(response: Response, predicate: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (!predicate(text)) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timeout; got: ${text}`)), deadline - Date.now())),
    ]);
    if (chunk.done) break;
    text += decoder.decode(chunk.value);
  }
  await reader.cancel();
  return text;
}

events('a subscriber receives published events live', async ({ station, url }) => {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, { signal: controller.signal });
  assert.match(res.headers.get('content-type')!, /text\/event-stream/);
  setTimeout(() => station.system.events.publish('wifi.forgotten', { name: 'ping' }), 50);
  const text = await readUntil(res, (t) => t.includes('wifi.forgotten'));
  assert.match(text, /^event: wifi\.forgotten$/m, 'a typed SSE event: the page listens by name');
  const data = text.split('\n').find((l) => l.startsWith('data: ') && l.includes('wifi.forgotten'))!;
  const event = JSON.parse(data.slice(6));
  assert.is(event.type, 'wifi.forgotten');
  assert.equal(event.data, { name: 'ping' });
  controller.abort();
});

events('Last-Event-ID resumes after the last event seen', async ({ station, url }) => {
  const first = station.system.events.publish('wifi.forgotten', { name: 'test.a' });
  station.system.events.publish('wifi.forgotten', { name: 'test.b' });
  const res = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(first.id) } });
  const text = await readUntil(res, (t) => t.includes('"test.b"'));
  assert.not.match(text, /"name":"test\.a"/);
  assert.match(text, /"name":"test\.b"/);
});

events('pairing events go to token holders only; the rest of the stream is the same for everyone', async ({ station, url }) => {
  const before = station.system.events.publish('wifi.forgotten', { name: 'test.before' });
  const anonymous = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id) } });
  const admin = await fetch(`${url}/api/v1/events`, {
    headers: { 'last-event-id': String(before.id), authorization: `Bearer ${station.token}` },
  });
  const wrong = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id), authorization: 'Bearer wrong' } });
  station.system.events.publish('pairing.opened', {
    open: true,
    closesAt: new Date(Date.now() + 30_000).toISOString(),
    remainingSeconds: 30,
    openedBy: 'api',
    activeSessions: 0,
  });
  station.system.events.publish('wifi.forgotten', { name: 'test.after' });
  const seen = await Promise.all([anonymous, admin, wrong].map((res) => readUntil(res, (t) => t.includes('test.after'))));
  assert.not.match(seen[0]!, /pairing\.opened/, 'an anonymous client does not learn a pairing window opened');
  assert.match(seen[1]!, /event: pairing\.opened/, 'the admin does');
  assert.not.match(seen[2]!, /pairing\.opened/, 'a wrong token is anonymous');
  // Replayed history (Last-Event-ID) is filtered the same way.
  const replay = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id) } });
  station.system.events.publish('wifi.forgotten', { name: 'test.marker' });
  const replayed = await readUntil(replay, (t) => t.includes('test.marker'));
  assert.match(replayed, /test\.after/);
  assert.not.match(replayed, /pairing\.opened/);
});

/** A sample of the station's Prometheus metrics (the event stream's gauges and counters). */
const metric = (station: TestStation, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(station.system.metrics.render())?.[1] ?? NaN);

/** Waits until the server has noticed every client that went away (its own close events). */
async function settle(station: TestStation, clients: number): Promise<void> {
  for (let i = 0; i < 500 && metric(station, 'station_event_clients') !== clients; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(metric(station, 'station_event_clients'), clients);
}

events('at most 32 streams at once: the next is 503 EVENT_STREAMS_FULL until one closes', async ({ station, url }) => {
  await settle(station, 0);
  const controllers = Array.from({ length: 32 }, () => new AbortController());
  const open = await Promise.all(controllers.map((c) => fetch(`${url}/api/v1/events`, { signal: c.signal })));
  assert.ok(open.every((r) => r.status === 200));
  assert.is(metric(station, 'station_event_clients'), 32);
  const refused = await fetch(`${url}/api/v1/events`);
  assert.is(refused.status, 503);
  assert.is(((await refused.json()) as { error: { code: string } }).error.code, 'EVENT_STREAMS_FULL');
  controllers[0]!.abort();
  await settle(station, 31);
  const next = new AbortController();
  assert.is((await fetch(`${url}/api/v1/events`, { signal: next.signal })).status, 200, 'a freed place is taken again');
  for (const c of [...controllers, next]) c.abort();
  await settle(station, 0);
});

events('a client that stops reading is dropped once its backlog passes the limit, instead of growing the agent', async ({ station, url }) => {
  await settle(station, 0);
  const { port } = new URL(url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await once(socket, 'data'); // the headers and the first line: the stream is open
  socket.pause(); // and never read again
  const dropped = metric(station, 'station_event_clients_dropped_total');
  const big = 'x'.repeat(64 * 1024);
  let published = 0;
  // Kernel buffers take a few MB first; the agent itself may hold only the backlog limit.
  while (metric(station, 'station_event_clients_dropped_total') === dropped && published < 1000) {
    station.system.events.publish('node.progress', { name: 'big', template: 'busybox', message: big });
    published++;
    await new Promise((r) => setImmediate(r));
  }
  assert.is(metric(station, 'station_event_clients_dropped_total'), dropped + 1, `dropped after ${published} events of 64 KiB`);
  await settle(station, 0);
  socket.destroy();
});

events.run();
