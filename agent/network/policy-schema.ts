// The Network Node policy carried in a node's spec (`spec.network`): what may come in, what may go
// out, and which station ports forward to the node. Default: deny both ways, except DNS to the
// station's resolver and traffic inside the node. Shape fixed by the contract: extend, don't change.
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Proto = Type.Union([Type.Literal('tcp'), Type.Literal('udp')], { default: 'tcp' });

/**
 * lan | mesh | internet | station (egress only: the station's own services) | node:NAME | owner:NAME | group:NAME | a CIDR.
 * Checked further by the compiler.
 */
export const Peer = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'lan, mesh, internet, node:NAME, owner:NAME, group:NAME or an IPv4 CIDR',
});

export const EgressRule = Type.Object(
  {
    to: Peer,
    ports: Type.Optional(Type.Array(Port, { minItems: 1, maxItems: 64 })),
    proto: Type.Optional(Proto),
  },
  { additionalProperties: false },
);

export const IngressRule = Type.Object(
  {
    from: Peer,
    ports: Type.Optional(Type.Array(Port, { minItems: 1, maxItems: 64 })),
    proto: Type.Optional(Proto),
  },
  { additionalProperties: false },
);

export const ExposeRule = Type.Object(
  {
    port: Port,
    to: Port,
    on: Type.Union([Type.Literal('lan'), Type.Literal('mesh')]),
    proto: Type.Optional(Proto),
  },
  { additionalProperties: false },
);

export const NetworkPolicySchema = Type.Object(
  {
    egress: Type.Optional(Type.Array(EgressRule, { maxItems: 256 })),
    ingress: Type.Optional(Type.Array(IngressRule, { maxItems: 256 })),
    expose: Type.Optional(Type.Array(ExposeRule, { maxItems: 64 })),
    // Extension: Dynamic Alias names this node claims, served as ALIAS.OWNER.<domain> wherever it runs.
    aliases: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' }), {
        maxItems: 16,
        description: 'aliases ALIAS.OWNER.<domain> that follow this node',
      }),
    ),
  },
  { additionalProperties: false, $id: 'NetworkPolicy' },
);

export type NetworkPolicy = Static<typeof NetworkPolicySchema>;
