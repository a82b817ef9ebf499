// Replicas (agent/replicas/). Open reads:
//   GET  /replicas                    the owner's lease store as this station sees it, whether failover can be
//                                     automatic, and every replicated node it runs or holds a copy of
//   GET  /nodes/:name/replicas        one node's: where the Active runs, its lease, each copy's state and lag
// Admin:
//   POST /nodes/:name/promote         the Inactive copy here becomes the Active node ({force} without the lease)
//   POST /nodes/:name/move            a planned move of the Active here to one of its Inactive stations ({to})
// Station-to-station over the mesh, from the owner's authority only (identified by the mesh address
// the request comes from):
//   POST /replicas/lease-store/join   run a member of the owner's cluster (the authority added it as a learner)
//   POST /replicas/lease-store/leave  the authority removed this station's member: stop it, forget its data
import { Type } from '@sinclair/typebox';
import { ForbiddenError, NotFoundError, UnavailableError } from '../../agent/errors.ts';
import { MUTATION_ERRORS, responses } from '../schemas/common.ts';
import type { RoutePlugin } from '../types.ts';
import { stationToStation } from './station-to-station.ts';

const Station = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const LeaseSchema = Type.Object({
  held: Type.Boolean(),
  token: Type.Union([Type.Integer(), Type.Null()]),
  holder: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
});
const ReplicaSchema = Type.Object({
  station: Type.String(),
  state: Type.Union(['waiting', 'in-sync', 'failing', 'offline'].map((s) => Type.Literal(s))),
  sending: Type.Boolean({ description: 'a newer snapshot is on its way now' }),
  snapshot: Type.Union([Type.String(), Type.Null()]),
  snapshotAt: Type.Union([Type.String(), Type.Null()]),
  sentAt: Type.Union([Type.String(), Type.Null()]),
  bytes: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  lagSeconds: Type.Union([Type.Number(), Type.Null()], { description: 'seconds of writes it lacks: since the newest snapshot it holds was taken' }),
});
const NodeReplicasSchema = Type.Object({
  node: Type.String(),
  role: Type.Union([Type.Literal('active'), Type.Literal('inactive')], { description: 'this station runs the Active copy, or holds an Inactive one' }),
  active: Type.Union([Type.String(), Type.Null()], { description: 'the station running the Active copy (null: nobody holds the lease)' }),
  lease: Type.Union([LeaseSchema, Type.Null()]),
  replicas: Type.Array(ReplicaSchema),
  lagSeconds: Type.Union([Type.Number(), Type.Null()], { description: 'on an Inactive: how old its newest snapshot is' }),
  held: Type.Union([Type.String(), Type.Null()], { description: 'on an Inactive: why it did not promote itself' }),
});
const PromoteBody = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: "without the lease: only once the Active's station is confirmed off" })) },
  { additionalProperties: false },
);
const PromoteSchema = Type.Object({
  node: Type.String(),
  from: Type.String(),
  token: Type.Union([Type.Integer(), Type.Null()]),
  lagSeconds: Type.Union([Type.Number(), Type.Null()]),
});
const NodeParams = Type.Object({ name: Station });
const MoveSchema = Type.Object({
  node: Type.String(),
  from: Type.String(),
  to: Type.String(),
  token: Type.Union([Type.Integer(), Type.Null()]),
  downtimeSeconds: Type.Number({ description: 'from the node stopping here to its start on the target' }),
  steps: Type.Record(Type.String(), Type.Integer(), { description: 'ms per step: presync (while it ran), stop, snapshot, last increment, promote' }),
});
const ReplicasSchema = Type.Object({
  leaseStore: Type.Object({
    member: Type.Union([Type.Literal('none'), Type.Literal('starting'), Type.Literal('serving')], { description: "this station's etcd member" }),
    reason: Type.Union([Type.String(), Type.Null()]),
    members: Type.Array(Type.Object({ name: Type.String(), learner: Type.Boolean(), leader: Type.Boolean() })),
    voters: Type.Integer(),
  }),
  failover: Type.Object({ automatic: Type.Boolean(), reason: Type.Union([Type.String(), Type.Null()]) }),
  nodes: Type.Array(NodeReplicasSchema),
});
const JoinBody = Type.Object(
  {
    cluster: Type.Record(Station, Type.String({ pattern: '^http://[0-9.]+:[0-9]+$' }), { maxProperties: 8, description: 'member name -> peer URL' }),
    clusterToken: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }),
  },
  { additionalProperties: false },
);
const Done = Type.Object({ ok: Type.Boolean() });

export const replicasRoutes: RoutePlugin = async (app, { system }) => {
  const tags = ['replicas'];
  const fromAuthority = (request: { socket: { remoteAddress?: string; localAddress?: string } }) => {
    if (system.isDisabled('mesh') || system.isDisabled('replicas'))
      throw new UnavailableError('REPLICAS_UNAVAILABLE', 'the mesh or replicas are turned off here');
    const caller = system.mesh.identify(request.socket.remoteAddress ?? '', request.socket.localAddress);
    const authority = system.mesh.info().authority;
    if (caller.name !== authority) throw new ForbiddenError('NOT_THE_AUTHORITY', `only the owner's authority (${authority}) changes the lease store's members`);
  };

  app.get(
    '/replicas',
    {
      schema: {
        tags,
        summary: "the owner's lease store as this station sees it, and whether failover can be automatic",
        response: responses({ 200: ReplicasSchema }),
      },
    },
    async () => system.replicas.report(),
  );

  app.get(
    '/nodes/:name/replicas',
    {
      schema: {
        tags,
        summary: "a replicated node's copies as this station sees them: where the Active runs, the lease, each Inactive's state and lag",
        params: NodeParams,
        response: responses({ 200: NodeReplicasSchema }, [404]),
      },
    },
    async (request) => {
      const view = await system.replicas.nodeView(request.params.name);
      if (!view) throw new NotFoundError('REPLICATED_NODE_NOT_FOUND', `${request.params.name} is neither a replicated node here nor a copy held here`);
      return view;
    },
  );

  app.post(
    '/nodes/:name/promote',
    {
      schema: {
        tags,
        summary: 'make the Inactive copy held here the Active node (refused while another station holds its lease, unless forced)',
        params: NodeParams,
        body: PromoteBody,
        response: responses({ 200: PromoteSchema }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request) => {
      if (system.isDisabled('replicas')) throw new UnavailableError('REPLICAS_UNAVAILABLE', 'replicas are turned off on this station (STATION_DISABLE)');
      return system.replicas.promote(request.params.name, { force: request.body?.force === true, automatic: false });
    },
  );

  app.post(
    '/nodes/:name/move',
    {
      schema: {
        tags,
        summary: 'a planned move of a replicated node to one of its Inactive stations: stopped, a last increment, started there; this copy becomes Inactive',
        params: NodeParams,
        body: Type.Object({ to: Station }, { additionalProperties: false }),
        response: responses({ 200: MoveSchema }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request) => {
      if (system.isDisabled('replicas')) throw new UnavailableError('REPLICAS_UNAVAILABLE', 'replicas are turned off on this station (STATION_DISABLE)');
      return system.replicas.move(request.params.name, request.body.to);
    },
  );

  app.post(
    '/replicas/lease-store/join',
    stationToStation({
      tags,
      from: "the owner's authority",
      summary: "run a member of the owner's lease store",
      body: JoinBody,
      response: responses({ 200: Done }, [403, 503]),
    }),
    async (request) => {
      fromAuthority(request);
      await system.replicas.leaseStore.join(request.body);
      return { ok: true };
    },
  );

  app.post(
    '/replicas/lease-store/leave',
    stationToStation({
      tags,
      from: "the owner's authority",
      summary: "this station's member was removed",
      response: responses({ 200: Done }, [403, 503]),
    }),
    async (request) => {
      fromAuthority(request);
      await system.replicas.leaseStore.leave('the authority removed it');
      return { ok: true };
    },
  );
};
