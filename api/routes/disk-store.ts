// The copy store's station-to-station routes (agent/disk/store/peer-store.ts). Every one is for the
// owner's own stations only, over the mesh: the caller is identified by its mesh address
// (MeshSubsystem.identify: the request arrived on this station's mesh address from a live member's
// address in the owner's range); from the LAN, the internet or another owner's station: 403.
//   POST /disk/store/grant      credentials for the calling station (a new password each time);
//                               {readFrom} adds read access to a gone station's repositories
//   GET  /disk/store            offer, what each of the owner's stations holds, free, running
//   GET  /disk/store/holdings   the repositories held for the owner's stations
// Pruning with the owner's authority (docs/disk-store.md):
//   POST /disk/prune-requests            admin, on the authority: a request signed with the CA key
//   POST /disk/store/prune               a member hands a signed request to the store (logged, delayed)
//   POST /disk/store/prune/:id/open      after the delay: one repository writable for a while
//   POST /disk/store/prune/:id/done      the pruning station is done: append-only again
import { Type } from '@sinclair/typebox';
import { UnavailableError } from '../../agent/errors.ts';
import { responses } from '../schemas/common.ts';
import type { RoutePlugin } from '../types.ts';
import { stationToStation } from './station-to-station.ts';

const Station = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', description: 'a station name of the same owner' });
const GrantBody = Type.Object(
  { readFrom: Type.Optional(Type.String({ ...Station, description: 'a gone station of the same owner whose repositories the caller may read' })) },
  { additionalProperties: false },
);
const GrantSchema = Type.Object({
  repositoryBase: Type.String({ description: 'rest:http://MESHADDR:PORT/<user>/ ; the repository of node N is at repositoryBase + N + /' }),
  user: Type.String({ description: '<station>.<owner>' }),
  password: Type.String({ description: "basic-auth password for the store (not the repository's: the store never sees that)" }),
  offerBytes: Type.Number(),
  usedBytes: Type.Number({ description: 'what the calling station holds here' }),
  freeBytes: Type.Number({ description: 'what may still be stored here (rest of the offer within the free disk space)' }),
});
const StoreSchema = Type.Object({
  running: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([Type.String(), Type.Null()]),
  offerBytes: Type.Number(),
  usedBytes: Type.Number(),
  freeBytes: Type.Number(),
  stations: Type.Array(Type.Object({ station: Type.String(), bytes: Type.Number() })),
});
const HoldingsSchema = Type.Object({
  holdings: Type.Array(
    Type.Object({ station: Type.String(), repository: Type.String(), bytes: Type.Number(), lastWrite: Type.Union([Type.String(), Type.Null()]) }),
  ),
});

const SignedPruneSchema = Type.Object(
  {
    request: Type.String({ maxLength: 4096, description: 'the request JSON exactly as signed' }),
    signature: Type.String({ maxLength: 200, description: "Ed25519 signature by the owner's CA key, base64" }),
  },
  { additionalProperties: false },
);
const PruneRequestBody = Type.Object(
  {
    store: Station,
    station: Station,
    repository: Station,
    notBefore: Type.Optional(Type.String({ format: 'date-time', description: 'not before this time (the store adds its own delay)' })),
  },
  { additionalProperties: false },
);
const PruneSchema = Type.Object({
  id: Type.String(),
  station: Type.String(),
  repository: Type.String(),
  state: Type.Union([Type.Literal('waiting'), Type.Literal('open'), Type.Literal('done')]),
  opensAt: Type.String(),
  repositoryUrl: Type.Optional(Type.String({ description: 'while open: rest:http://MESHADDR:PORT/ (the one repository, not append-only)' })),
  user: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  closesAt: Type.Optional(Type.String()),
});
const PruneParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{32}$' }) });

export const diskStoreRoutes: RoutePlugin = async (app, { system }) => {
  const store = system.disk.store;
  const mesh = system.mesh;
  const tags = ['disk'];
  // The mesh turned off by the owner (STATION_DISABLE): nobody can be identified (its state was never
  // loaded: identify would fail with a 500); say so as the mesh's own routes do. A disk room turned
  // off leaves the store off: members get 503 DISK_STORE_OFF with the reason, everyone else 403.
  app.addHook('preHandler', async () => {
    if (system.isDisabled('mesh')) throw new UnavailableError('MESH_UNAVAILABLE', 'the mesh is turned off on this station (STATION_DISABLE)');
  });
  const caller = (request: { socket: { remoteAddress?: string; localAddress?: string } }) =>
    mesh.identify(request.socket.remoteAddress ?? '', request.socket.localAddress);

  app.post(
    '/disk/store/grant',
    stationToStation({
      tags,
      summary: "credentials for this station's copy store (the owner's stations only)",
      body: GrantBody,
      response: responses({ 200: GrantSchema }, [403, 404, 409, 503]),
    }),
    async (request) => store.grant(caller(request), request.body.readFrom),
  );

  app.get(
    '/disk/store',
    stationToStation({
      tags,
      summary: "this station's copy store (offer, used per station, free)",
      response: responses({ 200: StoreSchema }, [403]),
    }),
    async (request) => store.status(caller(request).owner),
  );

  app.get(
    '/disk/store/holdings',
    stationToStation({
      tags,
      summary: "the repositories held here for the owner's stations",
      response: responses({ 200: HoldingsSchema }, [403]),
    }),
    async (request) => ({ holdings: await store.holdings(caller(request).owner) }),
  );

  app.post(
    '/disk/prune-requests',
    {
      schema: {
        tags,
        summary: "the owner's authority signs a request to prune one repository on one store (admin)",
        body: PruneRequestBody,
        response: responses({ 200: SignedPruneSchema }, [401, 409, 429]),
      },
    },
    async (request) => store.prunes.sign(request.body),
  );

  app.post(
    '/disk/store/prune',
    stationToStation({
      tags,
      summary: "hand a prune request signed by the owner's authority to this store",
      body: SignedPruneSchema,
      response: responses({ 200: PruneSchema }, [403, 404, 409, 503]),
    }),
    async (request) => store.prunes.accept(request.body, caller(request)),
  );

  app.post(
    '/disk/store/prune/:id/open',
    stationToStation({
      tags,
      summary: 'after the delay, open the prune window (one repository, not append-only)',
      params: PruneParams,
      body: Type.Object({}, { additionalProperties: false }),
      response: responses({ 200: PruneSchema }, [403, 404, 409, 503]),
    }),
    async (request) => {
      const who = caller(request);
      return store.prunes.window(request.params.id, who, store.assertServing());
    },
  );

  app.post(
    '/disk/store/prune/:id/done',
    stationToStation({
      tags,
      summary: 'the pruning is done; the repository is append-only again',
      params: PruneParams,
      body: Type.Object({}, { additionalProperties: false }),
      response: responses({ 200: PruneSchema }, [403, 404]),
    }),
    async (request) => store.prunes.close(request.params.id, caller(request)),
  );
};
