import { Type } from '@sinclair/typebox';
import { FreeObject } from './common.ts';

const HealthState = Type.Union([Type.Literal('ok'), Type.Literal('starting'), Type.Literal('degraded'), Type.Literal('off')]);

export const StatusSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    domain: Type.String(),
    startedAt: Type.String({ format: 'date-time' }),
    uptimeSeconds: Type.Integer(),
    ready: Type.Boolean(),
    health: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('starting')]),
    subsystems: Type.Array(Type.Object({ name: Type.String(), state: HealthState, reason: Type.Optional(Type.String()) })),
    hardware: Type.Union([
      Type.Null(),
      Type.Object({
        model: Type.String(),
        arch: Type.String(),
        cpuCores: Type.Integer(),
        memoryBytes: Type.Number(),
        detectedAt: Type.String(),
        unavailable: Type.Array(Type.String(), { description: 'capabilities this station lacks; see /hardware for why' }),
      }),
    ]),
    summaries: Type.Record(Type.String(), FreeObject, { description: 'per-subsystem summaries, e.g. node counts' }),
  },
  { $id: 'Status' },
);

export const HealthSchema = Type.Object({ status: Type.Literal('alive'), uptimeSeconds: Type.Number() });

export const ReadySchema = Type.Object({
  ready: Type.Boolean(),
  subsystems: Type.Array(Type.Object({ name: Type.String(), state: HealthState, reason: Type.Optional(Type.String()) })),
});
