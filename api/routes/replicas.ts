// Replicas (agent/replicas/). Open read: GET /replicas (the owner's lease store as this station sees
// it, and whether failover can be automatic). Station-to-station over the mesh, from the owner's
// authority only (identified by the mesh address the request comes from):
//   POST /replicas/lease-store/join   run a member of the owner's cluster (the authority added it as a learner)
//   POST /replicas/lease-store/leave  the authority removed this station's member: stop it, forget its data
import { Type } from '@sinclair/typebox';
import { ForbiddenError, UnavailableError } from '../../agent/errors.ts';
import { responses } from '../schemas/common.ts';
import type { RoutePlugin } from '../types.ts';

const Station = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const ReplicasSchema = Type.Object({
  leaseStore: Type.Object({
    member: Type.Union([Type.Literal('none'), Type.Literal('starting'), Type.Literal('serving')], { description: "this station's etcd member" }),
    reason: Type.Union([Type.String(), Type.Null()]),
    members: Type.Array(Type.Object({ name: Type.String(), learner: Type.Boolean(), leader: Type.Boolean() })),
    voters: Type.Integer(),
  }),
  failover: Type.Object({ automatic: Type.Boolean(), reason: Type.Union([Type.String(), Type.Null()]) }),
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

  app.post(
    '/replicas/lease-store/join',
    {
      config: { publicMutation: true },
      schema: {
        tags,
        summary: "station-to-station over the mesh, from the owner's authority: run a member of the owner's lease store",
        body: JoinBody,
        response: responses({ 200: Done }, [403, 503]),
      },
    },
    async (request) => {
      fromAuthority(request);
      await system.replicas.leaseStore.join(request.body);
      return { ok: true };
    },
  );

  app.post(
    '/replicas/lease-store/leave',
    {
      config: { publicMutation: true },
      schema: {
        tags,
        summary: "station-to-station over the mesh, from the owner's authority: this station's member was removed",
        response: responses({ 200: Done }, [403, 503]),
      },
    },
    async (request) => {
      fromAuthority(request);
      await system.replicas.leaseStore.leave('the authority removed it');
      return { ok: true };
    },
  );
};
