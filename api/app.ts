// The HTTP API as a Fastify plugin: schemas, auth, error shape and routes. The server (listening,
// signals) lives in server.ts, so tests can inject requests into this app without a socket.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StationSystem } from '../agent/system.ts';
import { AGENT_VERSION } from '../agent/version.ts';
import { handleError, handleNotFound } from './errors.ts';
import { ErrorSchema } from './schemas/common.ts';
import { StatusSchema } from './schemas/status.ts';
import { HardwareSchema } from './schemas/hardware.ts';
import { NodeSchema } from './schemas/nodes.ts';
import type { StationApp } from './types.ts';
import { API_ROUTES } from './routes/index.ts';
import { pageRoutes } from './routes/page.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AppOptions {
  system: StationSystem;
  /** pino instance to log with; defaults to the system's */
  logger?: boolean;
}

export async function buildApp({ system }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: system.log.child({ subsystem: 'api' }),
    // Each request is not logged (the status route is polled); errors and mutations are.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    ajv: {
      // A wrong type is an error, not something to guess at; unknown fields are refused, not dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as StationApp;

  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addSchema(ErrorSchema);
  app.addSchema(StatusSchema);
  app.addSchema(HardwareSchema);
  app.addSchema(NodeSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Station API', version: AGENT_VERSION, description: 'A home station of a Community Cluster: nodes, mesh, traffic control.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (station token)' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  // Document who may call each route: mutations need the bearer token unless they authenticate themselves.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => MUTATING.has(m))) return;
    route.schema = { ...route.schema, security: route.config?.publicMutation ? [] : [{ bearer: [] }] };
  });

  // Reads are open to the LAN; every change needs the admin token (checked before the body is parsed,
  // so an unauthenticated request learns nothing from validation errors).
  app.addHook('onRequest', async (request) => {
    if (!MUTATING.has(request.method) || request.routeOptions.config?.publicMutation) return;
    system.auth.authorizeMutation(request.headers.authorization, request.ip);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (MUTATING.has(request.method)) request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'change');
  });

  for (const routes of API_ROUTES) await app.register(routes, { prefix: '/api/v1', system });
  await app.register(pageRoutes, { system }); // the status page at `/`, outside /api/v1
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app as unknown as FastifyInstance;
}
