// Hot copies between the owner's stations (agent/replicas/), station-to-station over the mesh: the
// caller is identified by the mesh address its request comes from (403 for anyone else).
//   On an Inactive station, called by the Active:
//     PUT  /replicas/copies/:node                            the node's spec and the sender's fencing token
//     DELETE /replicas/copies/:node                          the node was deleted on the Active: drop the copy
//     GET  /replicas/copies/:node/volumes/:volume            the snapshots held here (to plan an increment)
//     POST /replicas/copies/:node/volumes/:volume/pull       fetch this snapshot (whole or since a parent) from the caller
//     POST /replicas/copies/:node/promote                    a planned move: take the node over (the Active gave its lease up)
//   On the Active, called by an Inactive it asked to pull:
//     GET  /replicas/streams/:node/:volume/:snapshot         the btrfs send stream (while it holds the lease with ?token)
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { UnavailableError } from '../../agent/errors.ts';
import { NodeSpecSchema, validateSpec } from '../../agent/nodes/spec.ts';
import { responses } from '../schemas/common.ts';
import type { RoutePlugin } from '../types.ts';
import { stationToStation } from './station-to-station.ts';

const Label = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const SnapshotName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
const Token = Type.Integer({ minimum: 1, description: "the fencing token: the create revision of the node's lease key" });
const NodeParam = Type.Object({ node: Label });
const VolumeParams = Type.Object({ node: Label, volume: Label });
const StreamParams = Type.Object({ node: Label, volume: Label, snapshot: SnapshotName });
const CopySchema = Type.Object({ node: Type.String(), active: Type.String(), token: Type.Integer(), updatedAt: Type.String() });

export const replicasCopiesRoutes: RoutePlugin = async (app, { system }) => {
  const tags = ['replicas'];
  const caller = (request: { socket: { remoteAddress?: string; localAddress?: string } }) => {
    if (system.isDisabled('replicas')) throw new UnavailableError('REPLICAS_UNAVAILABLE', 'replicas are turned off on this station (STATION_DISABLE)');
    if (system.isDisabled('mesh')) throw new UnavailableError('MESH_UNAVAILABLE', 'the mesh is turned off on this station (STATION_DISABLE)');
    return system.mesh.identify(request.socket.remoteAddress ?? '', request.socket.localAddress);
  };
  const inactive = system.replicas.inactive;

  app.put(
    '/replicas/copies/:node',
    stationToStation({
      tags,
      from: "a replicated node's Active",
      summary: 'its spec and fencing token',
      params: NodeParam,
      body: Type.Object({ spec: NodeSpecSchema, token: Token }, { additionalProperties: false }),
      response: responses({ 200: CopySchema }, [403, 409, 503]),
    }),
    async (request) => {
      const from = caller(request);
      const copy = await inactive.acceptSpec(from, request.params.node, request.body.token, validateSpec(request.body.spec));
      return { node: copy.node, active: copy.active, token: copy.token, updatedAt: copy.updatedAt };
    },
  );

  app.delete(
    '/replicas/copies/:node',
    stationToStation({
      tags,
      from: "a replicated node's Active",
      summary: 'the node was deleted there, drop the copy held here',
      params: NodeParam,
      response: responses({ 200: Type.Object({ dropped: Type.Boolean() }) }, [403, 503]),
    }),
    async (request) => ({ dropped: await system.replicas.dropCopy(caller(request).name, request.params.node) }),
  );

  app.get(
    '/replicas/copies/:node/volumes/:volume',
    stationToStation({
      tags,
      summary: 'the snapshots of one volume of a copy held here',
      params: VolumeParams,
      response: responses({ 200: Type.Object({ snapshots: Type.Array(Type.String()) }) }, [403, 503]),
    }),
    async (request) => {
      caller(request);
      return { snapshots: await inactive.snapshots(request.params.node, request.params.volume) };
    },
  );

  app.post(
    '/replicas/copies/:node/volumes/:volume/pull',
    stationToStation({
      tags,
      from: 'the Active',
      summary: 'fetch a snapshot from it (answered once it arrived)',
      params: VolumeParams,
      body: Type.Object({ snapshot: SnapshotName, parent: Type.Union([SnapshotName, Type.Null()]), token: Token }, { additionalProperties: false }),
      response: responses({ 200: Type.Object({ snapshot: Type.String(), bytes: Type.Integer() }) }, [403, 404, 409, 503]),
    }),
    async (request) => inactive.pull(caller(request), request.params.node, request.params.volume, request.body),
  );

  app.post(
    '/replicas/copies/:node/promote',
    stationToStation({
      tags,
      from: 'the Active in a planned move',
      summary: 'promote the copy held here (it gave its lease up)',
      params: NodeParam,
      response: responses({ 200: Type.Object({ token: Type.Union([Type.Integer(), Type.Null()]) }) }, [403, 404, 409, 503]),
    }),
    async (request) => ({ token: (await system.replicas.takeOver(caller(request).name, request.params.node)).token }),
  );

  app.get(
    '/replicas/streams/:node/:volume/:snapshot',
    stationToStation({
      tags,
      from: 'an Inactive asked to pull',
      summary: 'one snapshot as a btrfs send stream',
      params: StreamParams,
      querystring: Type.Object(
        { token: Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'the fencing token' }), parent: Type.Optional(SnapshotName) },
        { additionalProperties: false },
      ),
      produces: ['application/octet-stream'],
    }),
    async (request, reply) => {
      const from = caller(request);
      const { node, volume, snapshot } = request.params;
      const out = new PassThrough();
      // checks first (an error is an ordinary JSON answer), then the stream
      const sending = system.replicas.active.stream(
        from.name,
        node,
        volume,
        { snapshot, parent: request.query.parent ?? null, token: Number(request.query.token) },
        out,
      );
      await Promise.race([sending, once(out, 'readable')]);
      sending.catch((error: Error) => request.log.warn({ node, volume, err: error }, 'replica stream failed'));
      return reply.type('application/octet-stream').send(out);
    },
  );
};
