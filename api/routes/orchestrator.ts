// Orchestrators inside nodes (agent/orchestrator/). Open read:
//   GET  /orchestrator                             every orchestrated node here with its standing and its cluster's
//   GET  /orchestrator/bundles                                  the offline MicroK8s and K3s bundles imported here
// Admin:
//   POST /orchestrator/bundles                                  import a bundle from a file on this station ({path})
// Station-to-station over the mesh, from the owner's stations only:
//   POST /orchestrator/clusters/:cluster/join      a way into the cluster (a join token and its managers) from a manager here
import { Type } from '@sinclair/typebox';
import { UnavailableError } from '../../agent/errors.ts';
import { MUTATION_ERRORS, responses } from '../schemas/common.ts';
import { OrchestratorReportSchema } from '../schemas/orchestrator.ts';
import type { RoutePlugin } from '../types.ts';
import { stationToStation } from './station-to-station.ts';

const tags = ['orchestrator'];
const Label = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const JoinRole = Type.Union([Type.Literal('manager'), Type.Literal('worker')], { description: 'the role the token joins with' });
const BundleSchema = Type.Object({
  kind: Type.Union([Type.Literal('microk8s'), Type.Literal('k3s')]),
  version: Type.String({ description: "MicroK8s: the snap's revision; K3s: its architecture" }),
  files: Type.Array(Type.String()),
  bytes: Type.Integer(),
  importedAt: Type.String(),
});

export const orchestratorRoutes: RoutePlugin = async (app, { system }) => {
  const room = () => {
    if (system.isDisabled('orchestrator'))
      throw new UnavailableError('ORCHESTRATOR_UNAVAILABLE', 'orchestrators are turned off on this station (STATION_DISABLE)');
    return system.orchestrator;
  };

  app.get(
    '/orchestrator',
    {
      schema: {
        tags,
        summary: 'every orchestrated node of this station: its standing in its cluster and the cluster as a manager here sees it',
        response: responses({ 200: Type.Object({ members: Type.Array(Type.Object({ node: Type.String(), report: OrchestratorReportSchema })) }) }, [503]),
      },
    },
    async () => ({ members: room().members() }),
  );

  app.get(
    '/orchestrator/bundles',
    {
      schema: {
        tags,
        summary: 'the offline MicroK8s and K3s bundles imported on this station',
        response: responses({ 200: Type.Object({ bundles: Type.Array(BundleSchema) }) }, [503]),
      },
    },
    async () => ({ bundles: await room().bundles.list() }),
  );

  app.post(
    '/orchestrator/bundles',
    {
      schema: {
        tags,
        summary: 'import an offline bundle from a tar file on this station: checked, then kept (400 NOT_A_BUNDLE: nothing kept)',
        body: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' }) }, { additionalProperties: false }),
        response: responses({ 201: BundleSchema }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request, reply) => reply.status(201).send(await room().bundles.import(request.body.path)),
  );

  app.post(
    '/orchestrator/clusters/:cluster/join',
    stationToStation({
      tags,
      from: "one of the owner's stations",
      summary: 'a way into the cluster from a manager of it here: a join token for the role and the managers to join through',
      params: Type.Object({ cluster: Label }),
      body: Type.Object(
        {
          kind: Type.Union([Type.Literal('swarm'), Type.Literal('microk8s'), Type.Literal('k3s')]),
          role: Type.Union([Type.Literal('auto'), Type.Literal('manager'), Type.Literal('worker')]),
        },
        { additionalProperties: false },
      ),
      response: responses({ 200: Type.Object({ token: Type.String(), managers: Type.Array(Type.String()), role: JoinRole }) }, [403, 404, 503]),
    }),
    async (request) => {
      const orchestrator = room();
      if (system.isDisabled('mesh')) throw new UnavailableError('MESH_UNAVAILABLE', 'the mesh is turned off on this station (STATION_DISABLE)');
      const caller = system.mesh.identify(request.socket.remoteAddress ?? '', request.socket.localAddress);
      return orchestrator.joinOffer(caller, request.params.cluster, request.body.kind, request.body.role);
    },
  );
};
