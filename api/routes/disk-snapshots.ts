// A node's snapshot sets over HTTP: thin routes over the disk room's snapshots part
// (agent/disk/snapshots/keeper.ts). Listing is open like other reads; taking, deleting and restoring
// need the token, and so does reading a file out of a set (it is the node's data).
//   GET    /nodes/:name/snapshots                               the node's sets with sizes
//   POST   /nodes/:name/snapshots                               a set now (kept until deleted)
//   DELETE /nodes/:name/snapshots/:snapshot                     delete a set
//   POST   /nodes/:name/snapshots/:snapshot/restore             roll volumes back (node stopped: 409
//                                                               while it runs) or open one as a new volume
//   GET    /nodes/:name/snapshots/:snapshot/files?volume=&path= one file of one volume of the set
import { Type } from '@sinclair/typebox';
import { MUTATION_ERRORS, responses } from '../schemas/common.ts';
import { NodeNameParams } from '../schemas/nodes.ts';
import type { RoutePlugin } from '../types.ts';

const tags = ['disk'];
// names are checked by the agent (INVALID_SNAPSHOT_NAME, INVALID_VOLUME_NAME, with its reasons)
const SnapshotParams = Type.Object(
  {
    name: NodeNameParams.properties.name,
    snapshot: Type.String({ maxLength: 200, description: 'a set name, like 2026-12-04T20.15.03.123Z-auto' }),
  },
  { additionalProperties: false },
);
const Kind = Type.Union([Type.Literal('auto'), Type.Literal('manual')]);
const SetFields = {
  name: Type.String(),
  kind: Kind,
  createdAt: Type.String({ description: 'ISO time of the instant the set holds' }),
  frozen: Type.Boolean({ description: 'the node was running and frozen for that instant' }),
  freezeMs: Type.Number({ description: 'how long the node stood still' }),
  totalMs: Type.Number(),
};
const SetRecordSchema = Type.Object({ ...SetFields, volumes: Type.Array(Type.String()) });
const SetSchema = Type.Object({
  ...SetFields,
  volumes: Type.Array(
    Type.Object({
      volume: Type.String(),
      referencedBytes: Type.Number({ description: 'all the data the snapshot references' }),
      exclusiveBytes: Type.Number({ description: 'what deleting it frees' }),
    }),
  ),
  exclusiveBytes: Type.Number(),
});
const VolumeName = Type.String({ maxLength: 63 });
const RestoreBody = Type.Object(
  {
    volumes: Type.Optional(Type.Array(VolumeName, { minItems: 1, maxItems: 64, description: 'the volumes to restore (default: all of the set)' })),
    asNewVolume: Type.Optional(
      Type.Object(
        { volume: VolumeName, node: Type.Optional(VolumeName) },
        {
          additionalProperties: false,
          description: 'open the one volume named in volumes as this new volume (of this node unless node is given) instead of rolling back',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const RestoreResult = Type.Object({
  node: Type.String(),
  snapshot: Type.String(),
  restored: Type.Array(Type.String(), { description: 'volumes rolled back' }),
  opened: Type.Union([Type.Object({ node: Type.String(), volume: Type.String() }), Type.Null()]),
});
const FileQuery = Type.Object(
  {
    volume: VolumeName,
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'inside the volume; symlinks are followed only inside the snapshot' }),
  },
  { additionalProperties: false },
);

export const diskSnapshotRoutes: RoutePlugin = async (app, { system }) => {
  const keeper = () => system.disk.snapshots;

  app.get(
    '/nodes/:name/snapshots',
    {
      schema: {
        tags,
        summary: "the node's snapshot sets (all its volumes at one instant), oldest first, with sizes",
        params: NodeNameParams,
        response: responses({ 200: Type.Object({ snapshots: Type.Array(SetSchema) }) }, [404, 503]),
      },
    },
    async (request) => ({ snapshots: await keeper().list(request.params.name) }),
  );

  app.post(
    '/nodes/:name/snapshots',
    {
      schema: {
        tags,
        summary: 'take a snapshot set now (a running node is frozen for the instant); kept until deleted',
        params: NodeNameParams,
        response: responses({ 201: SetRecordSchema }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request, reply) => reply.status(201).send(await keeper().snapshot(request.params.name)),
  );

  app.delete(
    '/nodes/:name/snapshots/:snapshot',
    {
      schema: {
        tags,
        summary: 'delete a snapshot set',
        params: SnapshotParams,
        response: responses({ 200: SetRecordSchema }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request) => keeper().remove(request.params.name, request.params.snapshot),
  );

  app.post(
    '/nodes/:name/snapshots/:snapshot/restore',
    {
      schema: {
        tags,
        summary: 'roll volumes back to the set (the node must be stopped: 409 NODE_RUNNING), or open one as a new volume',
        params: SnapshotParams,
        body: RestoreBody,
        response: responses({ 200: RestoreResult }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request) => keeper().restore(request.params.name, request.params.snapshot, request.body),
  );

  app.get(
    '/nodes/:name/snapshots/:snapshot/files',
    {
      config: { tokenRequired: true },
      schema: {
        tags,
        summary: "one file from a volume of the set (the node's data: needs the token)",
        params: SnapshotParams,
        querystring: FileQuery,
        response: responses({}, [...MUTATION_ERRORS, 404, 503]),
      },
    },
    async (request, reply) => {
      const { name, snapshot } = request.params;
      const file = await keeper().readFile(name, snapshot, request.query.volume, request.query.path);
      return reply.type('application/octet-stream').header('content-length', file.size).send(file.stream);
    },
  );
};
