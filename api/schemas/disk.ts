// Infinite Disk's overview (agent/disk/overview.ts), as the API documents it.
import { Type } from '@sinclair/typebox';

const Bytes = Type.Integer({ minimum: 0 });
const NullableBytes = Type.Union([Bytes, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const PoolSchema = Type.Object({ sizeBytes: Bytes, usedBytes: Bytes, freeBytes: Bytes });

const StoreSchema = Type.Object(
  {
    running: Type.Boolean(),
    offerBytes: Bytes,
    usedBytes: Bytes,
    freeBytes: Bytes,
    reason: NullableString,
  },
  { description: "this station's append-only store for its owner's other stations (their ciphertext)" },
);

const VolumeSchema = Type.Object({
  name: Type.String(),
  usedBytes: NullableBytes,
  quotaBytes: Type.Union([Bytes, Type.Null()], { description: 'the enforced limit; df inside the node shows the whole pool, not this' }),
});

const CopySchema = Type.Object({
  station: Type.String(),
  state: Type.Union([Type.Literal('ok'), Type.Literal('pending'), Type.Literal('failing'), Type.Literal('lost')]),
  lastSuccess: NullableString,
  lagSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  bytes: NullableBytes,
  snapshot: NullableString,
  reason: NullableString,
});

export const CopiesSchema = Type.Object({
  want: Type.Integer({ minimum: 0 }),
  have: Type.Integer({ minimum: 0 }),
  state: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('off')]),
  reason: NullableString,
  list: Type.Array(CopySchema),
});

const SnapshotsSchema = Type.Object({ count: Type.Integer({ minimum: 0 }), newest: NullableString, newestAt: NullableString });

export const DiskReportSchema = Type.Object(
  {
    driver: NullableString,
    pool: Type.Union([PoolSchema, Type.Null()]),
    store: Type.Union([StoreSchema, Type.Null()]),
    nodes: Type.Array(
      Type.Object({
        name: Type.String(),
        volumes: Type.Array(VolumeSchema),
        snapshots: Type.Union([SnapshotsSchema, Type.Null()]),
        copies: Type.Union([CopiesSchema, Type.Null()]),
      }),
    ),
  },
  { description: 'Infinite Disk at a glance' },
);
