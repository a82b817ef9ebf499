// Schemas of the Network Node routes: Dynamic Alias listing.
import { Type } from '@sinclair/typebox';

export const AliasRecordSchema = Type.Object({
  name: Type.String({ description: 'fully qualified name, e.g. web.station1.mesh.internal or www.alice.mesh.internal' }),
  address: Type.String({ description: 'where the name points: the node address' }),
  station: Type.String({ description: 'the station the node runs on' }),
  node: Type.String(),
  kind: Type.Union([Type.Literal('node'), Type.Literal('alias')]),
  since: Type.Integer({ description: 'ms since epoch when that station began answering with this address; the newest claim wins' }),
  local: Type.Boolean({ description: 'the node runs on this station' }),
});

export const AliasListSchema = Type.Object(
  {
    station: Type.String(),
    domain: Type.String(),
    resolver: Type.Union([Type.String(), Type.Null()], { description: 'address of the resolver nodes use, null when it is not running' }),
    records: Type.Array(AliasRecordSchema),
  },
  { $id: 'AliasList' },
);

export const AliasQuerySchema = Type.Object(
  {
    scope: Type.Optional(
      Type.Union([Type.Literal('all'), Type.Literal('local')], {
        default: 'all',
        description: 'local: only names of nodes on this station (what other stations pull)',
      }),
    ),
  },
  { additionalProperties: false },
);
