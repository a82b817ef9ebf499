// The HTTP API as a Fastify plugin: schemas, auth, error shape and routes. The server (listening,
// signals) lives in server.ts, so tests can inject requests into this app without a socket.
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onRequestHookHandler,
  type onResponseHookHandler,
  type preValidationHookHandler,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StationSystem } from '../agent/system.ts';
import { AGENT_VERSION } from '../agent/version.ts';
import { handleError, handleNotFound, handleClientError, routerError, HOST_NOT_ALLOWED } from './errors.ts';
import { ErrorSchema } from './schemas/common.ts';
import { StatusSchema } from './schemas/status.ts';
import { HardwareSchema } from './schemas/hardware.ts';
import { NodeSchema } from './schemas/nodes.ts';
import type { StationApp } from './types.ts';
import { API_ROUTES } from './routes/index.ts';
import { pageRoutes } from './routes/page.ts';
import { lazySerializers, lazyValidators } from './lazy-serializers.ts';
import { openApiDocumentOnDemand, type NotedRoute } from './openapi.ts';
import { HostGuard, stationHostNames } from '../agent/auth/host-guard.ts';
import { ForbiddenError } from '../agent/errors.ts';
import { HTTP_LIMITS, serverOptions, type HttpLimits } from './http-limits.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HEALTH_URL = '/api/v1/health';

export interface AppOptions {
  system: StationSystem;
  /** tests shorten them; the station runs with HTTP_LIMITS */
  limits?: Partial<HttpLimits>;
}

export async function buildApp({ system, limits: overrides = {} }: AppOptions): Promise<FastifyInstance> {
  const limits: HttpLimits = { ...HTTP_LIMITS, ...overrides };
  // DNS rebinding: only requests meant for this station's own names and addresses are answered
  // (agent/auth/host-guard.ts), before anything else runs; the health check stays open to monitors.
  // A browser's state-changing request must also come from a page of the station: a foreign page
  // cannot post to it even where it can reach it. Requests without Origin (curl, the CLI) pass.
  const hosts = new HostGuard({
    names: stationHostNames(system.config),
    dynamicNames: [
      () => system.mesh.summary().address as string | null,
      () => (system.discovery.summary().announced as { hostname?: string } | null)?.hostname,
    ],
  });
  const serializers = lazySerializers();
  const validators = lazyValidators();
  const app = Fastify({
    ...serverOptions(limits),
    clientErrorHandler: handleClientError,
    // URLs the router refuses itself never reach the hooks: the Host check is made here too.
    frameworkErrors: (error, request, reply) => {
      const refused = hosts.allowsHost(request.headers.host) ? routerError(error as { code?: string }) : { status: 421, body: HOST_NOT_ALLOWED };
      (reply as unknown as FastifyReply).status(refused.status).send(refused.body);
    },
    loggerInstance: system.log.child({ subsystem: 'api' }),
    // Each request is not logged (the status route is polled); errors and mutations are.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // A child logger per request costs a third of the throughput of a small route; requests are not
    // logged one by one, and the error handler and change log name the method and URL themselves.
    childLoggerFactory: (logger) => logger,
    // Serializers and validators are compiled on a route's first use (api/lazy-serializers.ts).
    schemaController: {
      compilersFactory: { buildSerializer: serializers.buildSerializer as never, buildValidator: validators.buildValidator as never },
    },
    ajv: {
      // A wrong type is an error, not something to guess at; unknown fields are refused, not dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as StationApp;

  app.decorate('serializers', { compiled: serializers.compiled, compileAll: serializers.compileAll });
  app.decorate('validators', { compiled: validators.compiled, compileAll: validators.compileAll });
  app.setErrorHandler(handleError);
  // Many clients send content-type: application/json on every call, body or not: an empty body is
  // no body (DELETE, a POST without arguments), not malformed JSON. Anything else goes to Fastify's
  // own parser, which also refuses __proto__ and constructor.prototype keys.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') done(null, undefined);
    else parseJson(request, body as string, done);
  });
  app.addSchema(ErrorSchema);
  app.addSchema(StatusSchema);
  app.addSchema(HardwareSchema);
  app.addSchema(NodeSchema);

  app.addHook('onRequest', (request, reply, done) => {
    // A phone on the setup hotspot asks its captive-portal probe under the probe's own name
    // (connectivitycheck.gstatic.com, captive.apple.com): over the hotspot no other site can reach
    // the station, so there the Host is not a rebinding sign.
    if (
      !hosts.allowsHost(request.headers.host) &&
      !(request.routeOptions.url === HEALTH_URL && !MUTATING.has(request.method)) &&
      !system.wifi.arrivedOnHotspot(request.ip, request.socket.localAddress)
    ) {
      reply.status(421).send(HOST_NOT_ALLOWED);
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && MUTATING.has(request.method) && !hosts.allowsOrigin(origin)) {
      done(new ForbiddenError('ORIGIN_NOT_ALLOWED', "changes are accepted only from the station's own page (the Origin header names another site)"));
      return;
    }
    done();
  });

  // Reads that make the station do real work when asked a certain way need the token in that form
  // (anyone could otherwise keep the radio scanning), by URL so the route files stay plain reads.
  // The setup page scans without one when the request came over the hotspot, as it joins a network
  // without one there; from the LAN a rescan needs the token even while the hotspot is up.
  const costlyReads: Record<string, (request: FastifyRequest) => boolean> = {
    '/api/v1/wifi/networks': (request) =>
      (request.query as { rescan?: string } | undefined)?.rescan === 'yes' && !system.wifi.arrivedOnHotspot(request.ip, request.socket.localAddress),
  };

  // Reads are open to the LAN; every change needs the admin token, checked before the body is parsed
  // (an unauthenticated caller learns nothing from validation errors). The hooks are attached to
  // mutating routes only, so the reads that pages and monitors poll pay nothing for them.
  const authorize: onRequestHookHandler = (request, _reply, done) => {
    try {
      system.auth.authorizeMutation(request.headers.authorization, request.ip);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
  const logChange: onResponseHookHandler = (request, reply, done) => {
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'change');
    done();
  };
  const noBodyAsEmpty: preValidationHookHandler = (request, _reply, done) => {
    if (request.body === undefined) request.body = {};
    done();
  };
  const asList = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.config?.tokenRequired === true) {
      // A read that shows what only an admin may see (node logs).
      route.schema = { ...route.schema, security: [{ bearer: [] }] };
      route.onRequest = [authorize, ...asList(route.onRequest)] as typeof route.onRequest;
      return;
    }
    const costly = costlyReads[route.url];
    if (costly && !methods.some((m) => MUTATING.has(m))) {
      const authorizeIfCostly: onRequestHookHandler = (request, reply, done) => (costly(request) ? authorize.call(app, request, reply, done) : done());
      route.onRequest = [authorizeIfCostly, ...asList(route.onRequest)] as typeof route.onRequest;
      return;
    }
    if (!methods.some((m) => MUTATING.has(m))) return;
    const selfAuthenticating = route.config?.publicMutation === true;
    // Documented in OpenAPI: who may call it.
    route.schema = { ...route.schema, security: selfAuthenticating ? [] : [{ bearer: [] }] };
    if (!selfAuthenticating) route.onRequest = [authorize, ...asList(route.onRequest)] as typeof route.onRequest;
    route.onResponse = [logChange, ...asList(route.onResponse)] as typeof route.onResponse;
    // A call without a body (or an empty one) to a route whose body is optional or empty means "no
    // arguments": validated as {} rather than refused as "body must be object".
    if (route.schema?.body) route.preValidation = [noBodyAsEmpty, ...asList(route.preValidation)] as typeof route.preValidation;
  });
  // Every route, as the hook above left it (security included), and the shared schemas of the
  // plugin it is registered in, for the OpenAPI document.
  const documented: NotedRoute[] = [];
  const sharedSchemas: Record<string, unknown> = {};
  app.addHook('onRoute', function noteRoute(this: FastifyInstance, route) {
    Object.assign(sharedSchemas, this.getSchemas());
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      documented.push({ method, url: route.url, schema: route.schema as NotedRoute['schema'] });
  });
  // A mutation to an unknown route still needs the token first (probing for routes counts as failed
  // authentication), then gets 404.
  app.setNotFoundHandler(
    {
      preValidation: (request, reply, done) => (MUTATING.has(request.method) ? authorize.call(app, request, reply, done) : done()),
    },
    handleNotFound,
  );

  for (const routes of API_ROUTES) await app.register(routes, { prefix: '/api/v1', system, limits });
  await app.register(pageRoutes, { system }); // the status page at `/`, outside /api/v1
  const openApi = openApiDocumentOnDemand(documented, sharedSchemas, {
    info: {
      title: 'Station API',
      version: AGENT_VERSION,
      description: 'A home station of a Community Cluster: nodes, mesh, traffic control.',
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (station token)' } },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, openApi);
  return app as unknown as FastifyInstance;
}
