import { Type } from '@sinclair/typebox';
import { FreeObject } from './common.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const CapabilitySchema = Type.Object({
  id: Type.String(),
  available: Type.Boolean(),
  reason: Type.String(),
  details: Type.Optional(FreeObject),
});

export const HardwareSchema = Type.Object(
  {
    detectedAt: Type.String(),
    board: Type.Object({
      manufacturer: Type.String(),
      model: Type.String(),
      serial: Nullable(Type.String()),
      virtual: Type.Boolean(),
      virtualHost: Nullable(Type.String()),
    }),
    os: Type.Object({ distro: Type.String(), release: Type.String(), kernel: Type.String(), arch: Type.String(), hostname: Type.String() }),
    cpu: Type.Object({
      manufacturer: Type.String(),
      brand: Type.String(),
      cores: Type.Integer(),
      physicalCores: Type.Integer(),
      speedGHz: Nullable(Type.Number()),
    }),
    memory: Type.Object({ totalBytes: Type.Number(), availableBytes: Type.Number() }),
    disks: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), sizeBytes: Type.Number(), model: Type.String(), removable: Type.Boolean() })),
    filesystems: Type.Array(
      Type.Object({
        mount: Type.String(),
        fs: Type.String(),
        type: Type.String(),
        sizeBytes: Type.Number(),
        availableBytes: Type.Number(),
      }),
    ),
    network: Type.Array(
      Type.Object({
        name: Type.String(),
        mac: Type.String(),
        ipv4: Type.Array(Type.String()),
        ipv6: Type.Array(Type.String()),
        type: Type.String(),
        state: Type.String(),
        speedMbps: Nullable(Type.Number()),
        default: Type.Boolean(),
      }),
    ),
    wifi: Type.Array(Type.Object({ name: Type.String(), model: Type.String(), vendor: Type.String(), mac: Type.String() })),
    temperatures: Type.Object({ mainC: Nullable(Type.Number()), coresC: Type.Array(Type.Number()), maxC: Nullable(Type.Number()) }),
    capabilities: Type.Array(CapabilitySchema),
    partial: Type.Boolean({ description: 'some readings did not arrive (a slow or unusual box); the rest of the report stands' }),
    partialReasons: Type.Array(Type.String(), { description: 'one line per missing reading' }),
  },
  { $id: 'Hardware' },
);
