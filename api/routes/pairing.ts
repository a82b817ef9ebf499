// The pairing window (like a Hue bridge's link button): the link button on the box or the admin token
// opens it; while it is open one browser on the LAN may take an admin session, and that closes it.
// The window's state, its events and the session list are for token holders. The rules live in
// agent/indicator; the routes pass who is asking.
import type { FastifyRequest } from 'fastify';
import type { RoutePlugin } from '../types.ts';
import type { Caller } from '../../agent/indicator/indicator-subsystem.ts';
import {
  PairingStateSchema,
  PairingSessionSchema,
  EmptyBodySchema,
  SessionCheckSchema,
  SessionListSchema,
  SessionIdParamsSchema,
  RevokedSchema,
} from '../schemas/pairing.ts';
import { responses, MUTATION_ERRORS } from '../schemas/common.ts';

const caller = (request: FastifyRequest): Caller => ({
  authorization: request.headers.authorization,
  client: request.ip,
  local: request.socket.localAddress,
  userAgent: request.headers['user-agent'],
});
const TOKEN = [{ bearer: [] }];

export const pairingRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/pairing',
    {
      schema: {
        tags: ['pairing'],
        summary: 'is a pairing window open, and until when (needs the token)',
        security: TOKEN,
        response: responses({ 200: PairingStateSchema }, MUTATION_ERRORS),
      },
    },
    async (request) => system.indicator.pairingStateFor(caller(request)),
  );

  app.post(
    '/pairing/open',
    {
      schema: {
        tags: ['pairing'],
        summary: 'open a 30 s pairing window (what a short press of the link button does); the admin token only, not a pairing session',
        body: EmptyBodySchema,
        response: responses({ 200: PairingStateSchema }, [...MUTATION_ERRORS, 403, 503]),
      },
    },
    async (request) => system.indicator.openPairing('api', caller(request)),
  );

  // Authenticates itself: the open window is the credential, for a caller on the LAN. 403
  // PAIRING_CLOSED / PAIRING_NOT_FROM_LAN otherwise; 429 for a caller that keeps trying.
  app.post(
    '/pairing/session',
    {
      config: { publicMutation: true },
      schema: {
        tags: ['pairing'],
        summary: "take the open window's one admin session without the token (closes the window); from the LAN only",
        body: EmptyBodySchema,
        response: responses({ 200: PairingSessionSchema }, [403, 409, 429, 503]),
      },
    },
    async (request) => system.indicator.createSession(caller(request)),
  );

  app.get(
    '/pairing/sessions',
    {
      schema: {
        tags: ['pairing'],
        summary: 'the live pairing sessions: who took each and when (the admin token)',
        security: TOKEN,
        response: responses({ 200: SessionListSchema }, [...MUTATION_ERRORS, 403]),
      },
    },
    async (request) => ({ sessions: system.indicator.listSessions(caller(request)) }),
  );

  app.delete(
    '/pairing/sessions/:id',
    {
      schema: {
        tags: ['pairing'],
        summary: 'end a pairing session (the admin token; a session may end itself)',
        params: SessionIdParamsSchema,
        response: responses({ 200: RevokedSchema }, [...MUTATION_ERRORS, 403, 404]),
      },
    },
    async (request) => {
      system.indicator.revokeSession(request.params.id, caller(request));
      return { revoked: 1 };
    },
  );

  app.delete(
    '/pairing/sessions',
    {
      schema: {
        tags: ['pairing'],
        summary: 'end every pairing session (the admin token)',
        response: responses({ 200: RevokedSchema }, [...MUTATION_ERRORS, 403]),
      },
    },
    async (request) => ({ revoked: system.indicator.revokeAllSessions(caller(request)) }),
  );
};

/** The page's "am I signed in?" check: an authenticated no-op (401 when the bearer is not valid). */
export const sessionCheckRoutes: RoutePlugin = async (app) => {
  app.post(
    '/session/check',
    {
      schema: {
        tags: ['pairing'],
        summary: 'answers 200 when the bearer (admin token or pairing session) may change things, 401 otherwise',
        body: EmptyBodySchema,
        response: responses({ 200: SessionCheckSchema }, MUTATION_ERRORS),
      },
    },
    async () => ({ ok: true as const }),
  );
};
