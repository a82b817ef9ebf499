// Schemas of the mesh routes (/api/v1/mesh...).
import { Type } from '@sinclair/typebox';

const Lighthouse = Type.Object({ name: Type.String(), address: Type.String(), endpoints: Type.Array(Type.String()) });
const Allow = Type.Object(
  {
    port: Type.String({ pattern: '^(any|\\d{1,5}(-\\d{1,5})?)$', description: 'a port, a range "a-b" or "any"' }),
    proto: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp'), Type.Literal('any')]),
  },
  { additionalProperties: false },
);

export const MeshInfoSchema = Type.Object(
  {
    state: Type.Union(
      ['none', 'starting', 'up', 'down', 'revoked'].map((s) => Type.Literal(s)),
      { description: 'none: in no mesh; up: Nebula running' },
    ),
    role: Type.Union([Type.Literal('none'), Type.Literal('authority'), Type.Literal('member')]),
    owner: Type.Union([Type.String(), Type.Null()]),
    name: Type.String({ description: "the name in this station's certificate" }),
    address: Type.Union([Type.String(), Type.Null()], { description: 'mesh address (100.64.0.0/10)' }),
    caFingerprint: Type.Union([Type.String(), Type.Null()]),
    authority: Type.Union([Type.String(), Type.Null()], { description: "the station holding the owner's CA" }),
    lighthouse: Type.Boolean(),
    lighthouses: Type.Array(Lighthouse),
    trusted: Type.Array(Type.Object({ owner: Type.String(), fingerprint: Type.String() }), {
      description: "other owners' CAs this station trusts",
    }),
    members: Type.Integer(),
    joinedAt: Type.Union([Type.String(), Type.Null()]),
    syncedAt: Type.Union([Type.String(), Type.Null()]),
    nebula: Type.Object({
      running: Type.Boolean(),
      pid: Type.Union([Type.Integer(), Type.Null()]),
      restarts: Type.Integer(),
      tunDev: Type.String(),
    }),
    caPem: Type.Union([Type.String(), Type.Null()], { description: "the owner's CA certificate (public), for other owners to trust" }),
    nodeSubnet: Type.Union([Type.String(), Type.Null()], {
      description: "the node subnet the owner's authority allocated to this station (in its certificate); its nodes use it and peers route it over the mesh",
    }),
  },
  { $id: 'MeshInfo' },
);

export const PeerSchema = Type.Object(
  {
    name: Type.String(),
    owner: Type.String(),
    address: Type.String(),
    lighthouse: Type.Boolean(),
    online: Type.Boolean({ description: 'answered over the mesh in the last 30 s' }),
    lastHandshake: Type.Union([Type.String(), Type.Null()], { description: 'last Nebula handshake seen by this station' }),
    lastSeen: Type.Union([Type.String(), Type.Null()]),
    latencyMs: Type.Union([Type.Number(), Type.Null()], { description: 'round trip over the mesh' }),
    via: Type.Union([Type.String(), Type.Null()], { description: 'mesh address of the relay the tunnel goes through; null when direct' }),
    revoked: Type.Boolean(),
    nodeSubnet: Type.Union([Type.String(), Type.Null()], { description: 'its node subnet, routed to it over the mesh' }),
    apiPort: Type.Integer({ minimum: 1, maximum: 65535, description: 'its station API port on its mesh address' }),
  },
  { $id: 'MeshPeer' },
);

export const PeersSchema = Type.Object({ peers: Type.Array(PeerSchema) });

export const CreateMeshBody = Type.Object({ owner: Type.String({ minLength: 1, maxLength: 32 }) }, { additionalProperties: false });
export const InviteBody = Type.Object(
  { expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86400, default: 3600 })) },
  { additionalProperties: false },
);
export const InviteSchema = Type.Object({ code: Type.String(), id: Type.String(), expiresAt: Type.String() });
export const JoinBody = Type.Object({ code: Type.String({ minLength: 10, maxLength: 8192 }) }, { additionalProperties: false });

export const EnrolBody = Type.Object(
  {
    inviteId: Type.String({ maxLength: 64 }),
    name: Type.String({ maxLength: 63 }),
    publicKey: Type.String({ maxLength: 1024 }),
    nonce: Type.String({ maxLength: 128 }),
    endpoint: Type.String({ maxLength: 270 }),
    apiPort: Type.Integer({ minimum: 1, maximum: 65535 }),
    proof: Type.String({ maxLength: 128 }),
  },
  { additionalProperties: false },
);
export const EnrolReplySchema = Type.Object({
  payload: Type.String({ description: 'JSON text: certificate, CA, members' }),
  mac: Type.String(),
});

const Member = Type.Object({
  name: Type.String(),
  address: Type.String(),
  owner: Type.String(),
  fingerprint: Type.String(),
  lighthouse: Type.Boolean(),
  endpoints: Type.Array(Type.String()),
  apiPort: Type.Integer(),
  nodeSubnet: Type.Optional(Type.String()),
  joinedAt: Type.String(),
  revokedAt: Type.Optional(Type.String()),
  readmittedAt: Type.Optional(Type.String()),
});
export const DirectorySchema = Type.Object({
  owner: Type.String(),
  caFingerprint: Type.String(),
  authority: Type.String(),
  lighthouses: Type.Array(Lighthouse),
  members: Type.Array(Member),
  blocklist: Type.Array(Type.String()),
  online: Type.Array(Type.String(), { description: 'members the authority reaches over the mesh now' }),
  diskKey: Type.Optional(Type.String({ description: "the owner's disk key (the password of every copy of the owner's nodes); members only" })),
});
export const MemberSchema = Member;
export const PeerNameParams = Type.Object({ name: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' }) });
export const EmptyBody = Type.Object({}, { additionalProperties: false });
export const ExportBody = Type.Object({ passphrase: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export const CaExportSchema = Type.Object({
  format: Type.Literal('station-mesh-ca/v1'),
  owner: Type.String(),
  kdf: Type.Object({ name: Type.Literal('scrypt'), N: Type.Integer(), r: Type.Integer(), p: Type.Integer(), salt: Type.String() }),
  iv: Type.String(),
  tag: Type.String(),
  ciphertext: Type.String(),
});
export const TrustBody = Type.Object(
  {
    owner: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' }),
    ca: Type.String({ minLength: 50, maxLength: 4096, description: "the other owner's CA certificate (caPem of its GET /mesh)" }),
    allow: Type.Optional(Type.Array(Allow, { maxItems: 32, description: "what that owner's stations may reach beyond the API's public reads" })),
    lighthouses: Type.Optional(Type.Array(Lighthouse, { maxItems: 32 })),
  },
  { additionalProperties: false },
);
