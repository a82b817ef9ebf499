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

events.run();
