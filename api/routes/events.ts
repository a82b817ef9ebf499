// Server-sent events: every change on the station, as it happens. Supports Last-Event-ID so a
// browser that reconnects gets what it missed (while it is still in the bus's short history).
// Streams are bounded in number and backlog (api/event-streams.ts).
import type { RoutePlugin } from '../types.ts';
import { Type } from '@sinclair/typebox';
import type { StationEvent } from '../../agent/events.ts';
import { EVENT_NAMES, StationEventSchema } from '../../agent/event-map.ts';
import { isAdminOnlyEvent } from '../../agent/auth/secrets.ts';
import { UnavailableError } from '../../agent/errors.ts';
import { EventStreams } from '../event-streams.ts';
import { HTTP_LIMITS } from '../http-limits.ts';

const HEARTBEAT_MS = 15_000;

export const eventRoutes: RoutePlugin = async (app, { system, limits = HTTP_LIMITS }) => {
  const streams = new EventStreams(limits);
  system.metrics.register(() => streams.samples());
  app.addHook('preClose', async () => streams.closeAll());
  // For the OpenAPI document: every event's name and payload (agent/event-map.ts); never compiled
  // (the route writes the stream itself).
  app.addSchema(StationEventSchema);

  app.get(
    '/events',
    {
      schema: {
        tags: ['station'],
        summary: 'server-sent events (text/event-stream): each data line is a JSON event { id, type, at, data }; at most 32 streams at once (503 beyond)',
        description:
          `Each message has \`event: TYPE\` and \`data: JSON\` (see the StationEvent schema). Types: ${EVENT_NAMES.join(', ')}. pairing.* ` +
          `reach token holders only.`,
        response: { 200: { description: 'the event stream', content: { 'text/event-stream': { schema: Type.Ref('StationEvent') } } } },
      },
    },
    (request, reply) => {
      const res = reply.raw;
      if (!streams.admit(res)) {
        reply.header('retry-after', '5');
        throw new UnavailableError(
          'EVENT_STREAMS_FULL',
          `${limits.maxEventStreams} event streams are open, the most this station serves at once; try again shortly`,
        );
      }
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // Some events are for token holders only (a pairing window); EventSource cannot send headers, so
      // the page sees the public stream and CLI watchers send Authorization.
      const admin = system.auth.isAdmin(request.headers.authorization, request.ip);
      const send = (event: StationEvent) => {
        if (!admin && isAdminOnlyEvent(event.type)) return;
        streams.write(res, `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      };
      streams.write(res, 'retry: 2000\n: connected\n\n');
      const lastId = Number(request.headers['last-event-id']);
      if (Number.isInteger(lastId) && lastId > 0) for (const event of system.events.since(lastId)) send(event);
      const unsubscribe = system.events.subscribe(send);
      const heartbeat = setInterval(() => streams.write(res, ': ping\n\n'), HEARTBEAT_MS);
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.release(res);
      };
      request.raw.on('close', close);
      res.on('close', close);
    },
  );
};
