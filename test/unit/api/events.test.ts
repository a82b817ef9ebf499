// Server-sent events over a real socket: a client sees events as they are published, and a client
// reconnecting with Last-Event-ID gets what it missed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestStation, type TestStation } from '../../helpers/system.ts';

const events = suite<{ station: TestStation; url: string }>('events');
events.before(async (ctx) => {
  ctx.station = await createTestStation();
  ctx.url = await ctx.station.app.listen({ host: '127.0.0.1', port: 0 });
});
events.after(async (ctx) => { await ctx.station.close(); });

async function readUntil(response: Response, predicate: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (!predicate(text)) {
    const chunk = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timeout; got: ${text}`)), deadline - Date.now()))]);
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
  setTimeout(() => station.system.events.publish('test.ping', { n: 1 }), 50);
  const text = await readUntil(res, (t) => t.includes('test.ping'));
  const data = text.split('\n').find((l) => l.startsWith('data: ') && l.includes('test.ping'))!;
  const event = JSON.parse(data.slice(6));
  assert.is(event.type, 'test.ping');
  assert.equal(event.data, { n: 1 });
  controller.abort();
});

events('Last-Event-ID resumes after the last event seen', async ({ station, url }) => {
  const first = station.system.events.publish('test.a');
  station.system.events.publish('test.b');
  const res = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(first.id) } });
  const text = await readUntil(res, (t) => t.includes('test.b'));
  assert.not.match(text, /"type":"test\.a"/);
  assert.match(text, /"type":"test\.b"/);
});

events('pairing events go to token holders only; the rest of the stream is the same for everyone', async ({ station, url }) => {
  const before = station.system.events.publish('test.before');
  const anonymous = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id) } });
  const admin = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id), authorization: `Bearer ${station.token}` } });
  const wrong = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id), authorization: 'Bearer wrong' } });
  station.system.events.publish('pairing.opened', { open: true, remainingSeconds: 30 });
  station.system.events.publish('test.after');
  const seen = await Promise.all([anonymous, admin, wrong].map((res) => readUntil(res, (t) => t.includes('test.after'))));
  assert.not.match(seen[0]!, /pairing\.opened/, 'an anonymous client does not learn a pairing window opened');
  assert.match(seen[1]!, /event: pairing\.opened/, 'the admin does');
  assert.not.match(seen[2]!, /pairing\.opened/, 'a wrong token is anonymous');
  // Replayed history (Last-Event-ID) is filtered the same way.
  const replay = await fetch(`${url}/api/v1/events`, { headers: { 'last-event-id': String(before.id) } });
  station.system.events.publish('test.marker');
  const replayed = await readUntil(replay, (t) => t.includes('test.marker'));
  assert.match(replayed, /test\.after/);
  assert.not.match(replayed, /pairing\.opened/);
});

events.run();
