// Request and response schemas of the node routes. The spec itself is the agent's schema
// (agent/nodes/spec.ts), so the API and the agent can never disagree on what a node is.
import { Type } from '@sinclair/typebox';
import { NodeSpecSchema, NodePatchSchema, NODE_NAME_PATTERN } from '../../agent/nodes/spec.ts';
import { OrchestratorReportSchema } from './orchestrator.ts';

export const NodeNameParams = Type.Object(
  {
    name: Type.String({ pattern: NODE_NAME_PATTERN, description: 'the node name (a DNS label)' }),
  },
  { additionalProperties: false },
);

export const NodeStateSchema = Type.Union(
  ['running', 'stopped', 'starting', 'stopping', 'frozen', 'unknown', 'missing', 'deleting'].map((s) => Type.Literal(s)),
  {
    description: 'what LXC reports; missing = no container (the reconcile loop makes it), deleting = being removed',
  },
);

export const NodeStatsSchema = Type.Object({
  cpuSeconds: Type.Number(),
  memoryBytes: Type.Number(),
  memoryLimitBytes: Type.Union([Type.Number(), Type.Null()]),
  processes: Type.Integer(),
});

// The stored spec has every default filled in; it is the request schema's shape.
const TrafficCountSchema = Type.Object({ packets: Type.Number(), bytes: Type.Number() });
const TrafficDirectionSchema = Type.Object({ allowed: TrafficCountSchema, dropped: TrafficCountSchema });
const TrafficSchema = Type.Object({ egress: TrafficDirectionSchema, ingress: TrafficDirectionSchema });

export const NodeSchema = Type.Object(
  {
    name: Type.String(),
    state: NodeStateSchema,
    desiredState: Type.Union([Type.Literal('running'), Type.Literal('stopped')]),
    address: Type.String({ description: "the node's static IPv4 address on the station's node bridge" }),
    hostname: Type.String(),
    fqdn: Type.String({ description: 'NODE.STATION.<domain>' }),
    pid: Type.Union([Type.Integer(), Type.Null()]),
    spec: NodeSpecSchema,
    createdAt: Type.String(),
    updatedAt: Type.String(),
    danglingReferences: Type.Optional(
      Type.Array(Type.String(), {
        description: 'node:NAME references of spec.network that name no node yet: accepted, they take effect when that node appears',
      }),
    ),
    error: Type.Union([Type.String(), Type.Null()], { description: 'the last failure converging this node' }),
    stats: Type.Optional(Type.Union([NodeStatsSchema, Type.Null()])),
    traffic: Type.Optional(Type.Union([TrafficSchema, Type.Null()], { description: "what the node's network policy allowed and dropped (nftables counters)" })),
    volumeUsage: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          usedBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
          quotaBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
            description: 'the enforced limit (sizeMB); df inside the node shows the whole pool, not this',
          }),
        }),
        { description: 'per volume: bytes held and the enforced limit (GET /nodes/:name only)' },
      ),
    ),
    orchestrator: Type.Optional(
      Type.Union([OrchestratorReportSchema, Type.Null()], { description: "its standing in its orchestrator cluster, and the cluster's (spec.orchestrator)" }),
    ),
    redacted: Type.Optional(
      Type.Array(Type.String(), {
        description: 'fields hidden from a caller without the token, e.g. spec.env (names shown, values "(hidden)")',
      }),
    ),
  },
  { $id: 'Node' },
);

export const NodeListSchema = Type.Object({ nodes: Type.Array(Type.Ref('Node')) });

export const CreateNodeBody = NodeSpecSchema;
export const PatchNodeBody = NodePatchSchema;

export const StopBody = Type.Object(
  {
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 600, description: 'graceful stop, then forced after this many seconds (default 10)' })),
  },
  { additionalProperties: false },
);

export const ExecBody = Type.Object(
  {
    command: Type.Array(Type.String({ maxLength: 65536 }), { minItems: 1, maxItems: 1024, description: 'argv, run without a shell' }),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    input: Type.Optional(Type.String({ maxLength: 1_048_576, description: "written to the command's stdin" })),
  },
  { additionalProperties: false },
);

export const ExecResultSchema = Type.Object({ exitCode: Type.Integer(), stdout: Type.String(), stderr: Type.String() });

export const DeleteQuery = Type.Object(
  {
    volumes: Type.Optional(Type.Union([Type.Literal('keep'), Type.Literal('delete')], { description: "delete also removes the node's volumes" })),
  },
  { additionalProperties: false },
);

export const DeleteResultSchema = Type.Object({ name: Type.String(), deleted: Type.Literal(true), volumesDeleted: Type.Boolean() });

export const LogsQuery = Type.Object(
  {
    lines: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$', description: 'how many recent lines (default 200)' })),
  },
  { additionalProperties: false },
);

export const LogsSchema = Type.Object({ name: Type.String(), lines: Type.Array(Type.String()) });

export const StatsResultSchema = Type.Object({
  name: Type.String(),
  state: NodeStateSchema,
  stats: Type.Union([NodeStatsSchema, Type.Null()]),
});
