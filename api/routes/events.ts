// Server-sent events: every change on the station, as it happens. Supports Last-Event-ID so a
// browser that reconnects gets what it missed (while it is still in the bus's short history).
import type { RoutePlugin } from '../types.ts';
import type { StationEvent } from '../../agent/events.ts';
import type { ServerResponse } from 'node:http';
import { isAdminOnlyEvent } from '../../agent/auth/secrets.ts';

const HEARTBEAT_MS = 15_000;

export const eventRoutes: RoutePlugin = async (app, { system }) => {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/events', {
    schema: { tags: ['station'], summary: 'server-sent events (text/event-stream): each data line is a JSON event { id, type, at, data }' },
  }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // Some events are for token holders only (a pairing window); EventSource cannot send headers, so
    // the page sees the public stream and CLI watchers send Authorization.
    const admin = system.auth.isAdmin(request.headers.authorization, request.ip);
    const send = (event: StationEvent) => {
      if (!admin && isAdminOnlyEvent(event.type)) return;
      res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    res.write('retry: 2000\n: connected\n\n');
    const lastId = Number(request.headers['last-event-id']);
    if (Number.isInteger(lastId) && lastId > 0) for (const event of system.events.since(lastId)) send(event);
    const unsubscribe = system.events.subscribe(send);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    open.add(res);
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
    };
    request.raw.on('close', close);
    res.on('close', close);
  });
};
