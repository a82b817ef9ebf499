// A node's copies on peer stations over HTTP: thin routes over the disk room's copies part
// (agent/disk/copies/copy-keeper.ts). The overview is open like other reads (stations, times,
// sizes: never data, grants or keys); a backup, a restore and reading a file need the token.
//   GET  /disk/copies                          every node's copies: want/have, per copy state and lag
//   POST /disk/backup/:name                    back the node's newest snapshot set up to its copies now
//   POST /disk/restore {node, snapshot?, from?, origin?}
//                                              bring a node back on this station from the newest copy
//   GET  /disk/copies/:name/files?volume=&path=&snapshot=&from=
//                                              one file of a volume from the newest copy
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { MUTATION_ERRORS, responses } from '../schemas/common.ts';
import { CopiesSchema } from '../schemas/disk.ts';
import { NodeNameParams } from '../schemas/nodes.ts';
import type { RoutePlugin } from '../types.ts';

const tags = ['disk'];
// names are checked by the agent (INVALID_NODE_NAME, INVALID_STATION_NAME, INVALID_SNAPSHOT)
const Name = Type.String({ maxLength: 63 });
const Snapshot = Type.String({ maxLength: 100, description: 'a restic snapshot id (prefix) or a snapshot set name' });
const Station = Type.String({ maxLength: 63, description: 'the peer station holding the copy to read' });
const Origin = Type.String({ maxLength: 63, description: 'the station the node was copied from, when copies of nodes of that name exist from several' });
const RestoreBody = Type.Object(
  { node: Name, snapshot: Type.Optional(Snapshot), from: Type.Optional(Station), origin: Type.Optional(Origin) },
  { additionalProperties: false },
);
const RestoreResult = Type.Object({
  node: Type.String(),
  station: Type.String({ description: 'the peer it was read from' }),
  origin: Type.String({ description: 'the station that made the copy' }),
  snapshot: Type.String({ description: "restic's short id" }),
  time: Type.String({ description: 'when that backup was taken' }),
  volumes: Type.Array(Type.String()),
});
const Outcome = Type.Object({
  station: Type.String(),
  ok: Type.Boolean(),
  snapshot: Type.Union([Type.String(), Type.Null()]),
  dataAdded: Type.Union([Type.Number(), Type.Null()], { description: 'bytes new to the copy, before compression' }),
  seconds: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});
const FileQuery = Type.Object(
  {
    volume: Name,
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'inside the volume' }),
    snapshot: Type.Optional(Snapshot),
    from: Type.Optional(Station),
  },
  { additionalProperties: false },
);

export const diskCopyRoutes: RoutePlugin = async (app, { system }) => {
  const copies = () => system.disk.copies;

  app.get(
    '/disk/copies',
    {
      schema: {
        tags,
        summary: "every node's copies on peer stations: want/have, and per copy its station, state, last success, lag and bytes",
        response: responses({ 200: Type.Object({ nodes: Type.Array(Type.Object({ node: Type.String(), copies: Type.Union([CopiesSchema, Type.Null()]) })) }) }),
      },
    },
    async () => ({ nodes: copies().reports() }),
  );

  app.post(
    '/disk/backup/:name',
    {
      schema: {
        tags,
        summary: "back the node's newest snapshot set up to its copies now (places copies first where they are missing)",
        params: NodeNameParams,
        response: responses({ 200: Type.Object({ node: Type.String(), copies: Type.Array(Outcome) }) }, [...MUTATION_ERRORS, 404, 503]),
      },
    },
    async (request) => ({ node: request.params.name, copies: await copies().backup(request.params.name) }),
  );

  app.post(
    '/disk/restore',
    {
      schema: {
        tags,
        summary: 'bring a node back on this station from the newest copy a peer of its owner holds (its spec and volumes); 409 when it exists here',
        body: RestoreBody,
        response: responses({ 200: RestoreResult }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request) => copies().restore(request.body, { create: (spec) => system.nodes.actions().create(spec) }),
  );

  app.get(
    '/disk/copies/:name/files',
    {
      config: { tokenRequired: true },
      schema: {
        tags,
        summary: "one file of a node's volume from its newest copy on a peer (the node's data: needs the token)",
        params: NodeNameParams,
        querystring: FileQuery,
        // 409 COPY_WRONG_KEY: copies held that this station's owner key does not open
        response: responses({}, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request, reply) => {
      const out = new PassThrough();
      const reading = copies().readFile({ node: request.params.name, ...request.query }, out);
      // a missing file or copy fails before the first byte: answer it as an error, not a cut-off body
      await Promise.race([once(out, 'readable'), reading]);
      reading.catch(() => undefined);
      return reply.type('application/octet-stream').send(out);
    },
  );
};
