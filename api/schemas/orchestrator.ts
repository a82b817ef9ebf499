// An orchestrated node's standing in its cluster (agent/orchestrator/): in GET /nodes/:name and
// GET /orchestrator.
import { Type } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const MemberSchema = Type.Object({
  id: Type.String({ description: "the engine's id of the member (hostnames repeat where nodes on several stations share a name)" }),
  hostname: Type.String(),
  role: Type.Union([Type.Literal('manager'), Type.Literal('worker')]),
  state: Type.String({ description: 'ready, down, unknown or disconnected (the engine says)' }),
  leader: Type.Boolean(),
  reachable: Type.Union([Type.Boolean(), Type.Null()], { description: 'a manager: reachable by the others; null for a worker' }),
  availability: Type.String(),
  engineVersion: Type.String(),
});

const ClusterViewSchema = Type.Object({
  health: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('no-quorum')]),
  reason: Nullable(Type.String()),
  leader: Nullable(Type.String()),
  managers: Type.Object({ total: Type.Integer(), reachable: Type.Integer(), quorum: Type.Boolean() }),
  members: Type.Array(MemberSchema),
});

export const OrchestratorReportSchema = Type.Object({
  kind: Type.String({ description: 'swarm, microk8s or k3s' }),
  cluster: Type.String(),
  role: Type.Union([Type.Literal('auto'), Type.Literal('manager'), Type.Literal('worker')], { description: 'what the spec asks for' }),
  state: Type.Union(
    ['stopped', 'starting', 'forming', 'joining', 'member', 'error'].map((s) => Type.Literal(s)),
    {
      description: 'starting: the engine does not answer yet; forming: no member yet, waiting for the founder; joining: on its way in',
    },
  ),
  reason: Nullable(Type.String()),
  engineVersion: Type.Optional(Nullable(Type.String())),
  memberRole: Type.Optional(Type.Union([Type.Literal('manager'), Type.Literal('worker'), Type.Null()])),
  memberId: Type.Optional(Nullable(Type.String({ description: 'its id among the members' }))),
  view: Type.Optional(Type.Union([ClusterViewSchema, Type.Null()], { description: 'the cluster as a manager here lists it' })),
});
