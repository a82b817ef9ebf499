// The mesh routes. Admin routes (create, invite, join, revoke, leave, trust, export) need the admin
// token (the app's hook). Two station-to-station routes authenticate the caller themselves:
//   POST /mesh/enrol            a joining station proves the invite secret (HMAC), publicMutation
//   GET  /mesh/directory        members fetch lighthouses and the blocklist: mesh identity
//   POST /mesh/members/leave    a member leaving: mesh identity, publicMutation
import type { RoutePlugin } from '../types.ts';
import { stationToStation } from './station-to-station.ts';
import { UnavailableError } from '../../agent/errors.ts';
import { responses, MUTATION_ERRORS } from '../schemas/common.ts';
import {
  MeshInfoSchema,
  PeersSchema,
  CreateMeshBody,
  InviteBody,
  InviteSchema,
  JoinBody,
  EnrolBody,
  EnrolReplySchema,
  DirectorySchema,
  MemberSchema,
  PeerNameParams,
  EmptyBody,
  ExportBody,
  CaExportSchema,
  TrustBody,
} from '../schemas/mesh.ts';

export const meshRoutes: RoutePlugin = async (app, { system }) => {
  app.addSchema(MeshInfoSchema);
  const mesh = system.mesh;
  const tags = ['mesh'];
  // Turned off by the owner (STATION_DISABLE=mesh): the mesh's state was never loaded; say so. After
  // the token and body checks (preHandler), so a caller learns nothing before authenticating.
  app.addHook('preHandler', async () => {
    if (system.isDisabled('mesh')) throw new UnavailableError('MESH_UNAVAILABLE', 'the mesh is turned off on this station (STATION_DISABLE)');
  });

  app.get(
    '/mesh',
    {
      schema: {
        tags,
        summary: "this station's mesh: owner, address, CA fingerprint, lighthouses, state",
        response: responses({ 200: MeshInfoSchema }),
      },
    },
    async () => mesh.info(),
  );

  app.get(
    '/mesh/peers',
    { schema: { tags, summary: "the owner's other stations: online, last handshake, latency", response: responses({ 200: PeersSchema }) } },
    async () => ({ peers: mesh.peers() }),
  );

  app.post(
    '/mesh',
    {
      schema: {
        tags,
        summary: "make the owner's authority (CA) on this station and join it",
        body: CreateMeshBody,
        response: responses({ 200: MeshInfoSchema }, [...MUTATION_ERRORS, 409, 503]),
      },
    },
    async (request) => mesh.create(request.body.owner),
  );

  app.post(
    '/mesh/invites',
    {
      schema: {
        tags,
        summary: 'a one-time invite code for a new station (authority only)',
        body: InviteBody,
        response: responses({ 200: InviteSchema }, [...MUTATION_ERRORS, 409, 503]),
      },
    },
    async (request) => mesh.invite(request.body.expiresInSeconds),
  );

  app.post(
    '/mesh/join',
    {
      schema: {
        tags,
        summary: 'join a mesh with an invite code',
        body: JoinBody,
        response: responses({ 200: MeshInfoSchema }, [...MUTATION_ERRORS, 403, 409, 503]),
      },
    },
    async (request) => mesh.join(request.body.code),
  );

  app.post(
    '/mesh/enrol',
    {
      config: { publicMutation: true },
      schema: {
        tags,
        summary: 'station-to-station: a joining station proves its invite and gets its certificate',
        body: EnrolBody,
        response: responses({ 200: EnrolReplySchema }, [403, 409, 503]),
      },
    },
    async (request) => mesh.enrol(request.body),
  );

  app.get(
    '/mesh/directory',
    stationToStation({
      tags,
      summary: "members, lighthouses, blocklist (callers: the owner's stations)",
      response: responses({ 200: DirectorySchema }, [403, 409]),
    }),
    async (request) => mesh.directory(request.ip, request.socket.localAddress),
  );

  app.post(
    '/mesh/members/leave',
    stationToStation({
      tags,
      summary: 'the calling member leaves (its certificate is blocked)',
      body: EmptyBody,
      response: responses({ 200: MemberSchema }, [403, 409]),
    }),
    async (request) => mesh.memberLeaves(request.ip, request.socket.localAddress),
  );

  app.post(
    '/mesh/peers/:name/revoke',
    {
      schema: {
        tags,
        summary: "block a station's certificate; every member drops it within a minute (authority only)",
        params: PeerNameParams,
        body: EmptyBody,
        response: responses({ 200: MemberSchema }, [...MUTATION_ERRORS, 404, 409]),
      },
    },
    async (request) => mesh.revoke(request.params.name),
  );

  app.post(
    '/mesh/peers/:name/readmit',
    {
      schema: {
        tags,
        summary: 'let a revoked name join again with a new invite; its old certificates stay blocked (authority only)',
        params: PeerNameParams,
        body: EmptyBody,
        response: responses({ 200: MemberSchema }, [...MUTATION_ERRORS, 404, 409]),
      },
    },
    async (request) => mesh.readmit(request.params.name),
  );

  app.post(
    '/mesh/leave',
    {
      schema: {
        tags,
        summary: "leave the mesh: stop Nebula and delete this station's key and certificate",
        body: EmptyBody,
        response: responses({ 200: MeshInfoSchema }, [...MUTATION_ERRORS, 409]),
      },
    },
    async () => mesh.leave(),
  );

  app.post(
    '/mesh/trust',
    {
      schema: {
        tags,
        summary: "trust another owner's CA (a community); allow says what its stations may reach",
        body: TrustBody,
        response: responses({ 200: MeshInfoSchema }, [...MUTATION_ERRORS, 409, 503]),
      },
    },
    async (request) =>
      mesh.trust({
        owner: request.body.owner,
        ca: request.body.ca,
        allow: request.body.allow ?? [],
        lighthouses: request.body.lighthouses ?? [],
      }),
  );

  app.post(
    '/mesh/authority/export',
    {
      schema: {
        tags,
        summary: "the owner's CA, encrypted with a passphrase, for backup",
        body: ExportBody,
        response: responses({ 200: CaExportSchema }, [...MUTATION_ERRORS, 403, 409]),
      },
    },
    async (request) => mesh.exportCa(request.body.passphrase),
  );
};
