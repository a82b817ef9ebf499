// Disposable Nodes over HTTP: thin routes, each validates with its schema and calls one action of
// the node service (agent/nodes/service.ts). 503 NODES_UNAVAILABLE when LXC cannot work here.
import type { RoutePlugin } from '../types.ts';
import { responses, MUTATION_ERRORS } from '../schemas/common.ts';
import {
  NodeNameParams,
  NodeListSchema,
  CreateNodeBody,
  PatchNodeBody,
  StopBody,
  ExecBody,
  ExecResultSchema,
  DeleteQuery,
  DeleteResultSchema,
  LogsQuery,
  LogsSchema,
  StatsResultSchema,
} from '../schemas/nodes.ts';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { withoutSecrets } from '../../agent/auth/secrets.ts';
import { Coalescer } from '../../agent/coalesce.ts';
import type { NodeView } from '../../agent/nodes/service.ts';

const NodeRef = Type.Ref('Node');
const tags = ['nodes'];
const changeErrors = [...MUTATION_ERRORS, 404, 409, 503];

export const nodeRoutes: RoutePlugin = async (app, { system }) => {
  const nodes = () => system.nodes.actions();
  // Reads are open, but env values are secrets: shown to token holders only (agent/auth/secrets.ts).
  const isAdmin = (request: FastifyRequest) => system.auth.isAdmin(request.headers.authorization, request.ip);
  // Reading a node observes it (/proc, cgroups, counters): open reads of one node share one
  // observation a second, and any change the station sees (node.* events) drops it at once.
  // Admins read fresh.
  const shared = new Coalescer<NodeView>({ ttlMs: 1000 });
  const stopForgetting = system.events.subscribeArea('node', (event) => {
    if ('name' in event.data) shared.forget(event.data.name);
  });
  app.addHook('onClose', async () => stopForgetting());
  const read = (admin: boolean, name: string) => (admin ? nodes().get(name) : shared.get(name, () => nodes().get(name)));
  // an orchestrated node's standing in its cluster, as the orchestrator room last saw it
  const withOrchestrator = <T extends { name: string; spec: { orchestrator?: unknown } }>(view: T) =>
    view.spec.orchestrator ? { ...view, orchestrator: system.isDisabled('orchestrator') ? null : system.orchestrator.report(view.name) } : view;

  app.get(
    '/nodes',
    {
      schema: {
        tags,
        summary: 'every node of this station (env values only with the token)',
        response: responses({ 200: NodeListSchema }, [503]),
      },
    },
    async (request) => {
      const list = nodes().list().map(withOrchestrator);
      return { nodes: isAdmin(request) ? list : list.map(withoutSecrets) };
    },
  );

  app.post(
    '/nodes',
    {
      schema: {
        tags,
        summary: 'create a node from a spec and start it',
        body: CreateNodeBody,
        response: responses({ 201: NodeRef }, [...MUTATION_ERRORS, 409, 503]),
      },
    },
    async (request, reply) => reply.status(201).send(await nodes().create(request.body)),
  );

  app.get(
    '/nodes/:name',
    {
      schema: {
        tags,
        summary: 'one node: state, address, spec, stats (env values only with the token)',
        params: NodeNameParams,
        response: responses({ 200: NodeRef }, [404, 503]),
      },
    },
    async (request) => {
      const admin = isAdmin(request);
      const view = withOrchestrator(await read(admin, request.params.name));
      return admin ? view : withoutSecrets(view);
    },
  );

  app.patch(
    '/nodes/:name',
    {
      schema: {
        tags,
        summary: 'change labels, autostart, network, resources, env or modules (recreates the node when its build changes; volumes kept)',
        params: NodeNameParams,
        body: PatchNodeBody,
        response: responses({ 200: NodeRef }, changeErrors),
      },
    },
    async (request) => nodes().patch(request.params.name, request.body),
  );

  app.delete(
    '/nodes/:name',
    {
      schema: {
        tags,
        summary: 'destroy a node; its volumes are kept unless ?volumes=delete',
        params: NodeNameParams,
        querystring: DeleteQuery,
        response: responses({ 200: DeleteResultSchema }, changeErrors),
      },
    },
    async (request) => nodes().remove(request.params.name, { volumes: request.query.volumes === 'delete' }),
  );

  app.post(
    '/nodes/:name/start',
    {
      schema: {
        tags,
        summary: 'start a node (and keep it running)',
        params: NodeNameParams,
        response: responses({ 200: NodeRef }, changeErrors),
      },
    },
    async (request) => nodes().start(request.params.name),
  );

  // the verbs that stop the node first, each with the same optional stop timeout
  const stopping = [
    ['stop', 'stop a node gracefully, forced after the timeout (and keep it stopped)'],
    ['restart', 'stop and start a node'],
    ['recreate', 'destroy and create the node from its spec; volumes are kept'],
  ] as const;
  for (const [verb, summary] of stopping) {
    app.post(
      `/nodes/:name/${verb}`,
      {
        schema: {
          tags,
          summary,
          params: NodeNameParams,
          body: Type.Optional(StopBody),
          response: responses({ 200: NodeRef }, changeErrors),
        },
      },
      async (request) => nodes()[verb](request.params.name, request.body ?? {}),
    );
  }

  app.post(
    '/nodes/:name/exec',
    {
      schema: {
        tags,
        summary: 'run a command in a running node',
        params: NodeNameParams,
        body: ExecBody,
        response: responses({ 200: ExecResultSchema }, changeErrors),
      },
    },
    async (request) => {
      const { command, timeoutSeconds, input } = request.body;
      return nodes().exec(request.params.name, command, {
        ...(timeoutSeconds ? { timeoutMs: timeoutSeconds * 1000 } : {}),
        ...(input !== undefined ? { input } : {}),
      });
    },
  );

  // Logs may carry whatever the node's programs print (tokens, passwords): admins only.
  app.get(
    '/nodes/:name/logs',
    {
      config: { tokenRequired: true },
      schema: {
        tags,
        summary: "the node's recent log lines (modules, init); needs the token",
        params: NodeNameParams,
        querystring: LogsQuery,
        response: responses({ 200: LogsSchema }, [...MUTATION_ERRORS, 404, 503]),
      },
    },
    async (request) => {
      const text = await nodes().logs(request.params.name, Math.min(10_000, Number(request.query.lines ?? 200)));
      return { name: request.params.name, lines: text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1) };
    },
  );

  app.get(
    '/nodes/:name/stats',
    {
      schema: {
        tags,
        summary: "live CPU, memory and process counts from the node's cgroups",
        params: NodeNameParams,
        response: responses({ 200: StatsResultSchema }, [404, 503]),
      },
    },
    async (request) => {
      const { name, state, stats } = await read(isAdmin(request), request.params.name);
      return { name, state, stats: stats ?? null };
    },
  );
};
