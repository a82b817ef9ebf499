// The pairing window (like a Hue bridge's link button): GET shows whether it is open; an admin (or
// the link button on the box) opens it; while it is open anyone on the LAN may take an admin session.
import type { RoutePlugin } from '../types.ts';
import { PairingStateSchema, PairingSessionSchema, EmptyBodySchema, SessionCheckSchema } from '../schemas/pairing.ts';
import { responses, MUTATION_ERRORS } from '../schemas/common.ts';

export const pairingRoutes: RoutePlugin = async (app, { system }) => {
  app.get('/pairing', {
    schema: { tags: ['pairing'], summary: 'is a pairing window open, and until when', response: responses({ 200: PairingStateSchema }) },
  }, async () => system.indicator.pairingState());

  app.post('/pairing/open', {
    schema: { tags: ['pairing'], summary: 'open a 30 s pairing window (what a short press of the link button does)', body: EmptyBodySchema, response: responses({ 200: PairingStateSchema }, [...MUTATION_ERRORS, 503]) },
  }, async () => system.indicator.openPairing('api'));

  // Authenticates itself: the open window is the credential. 403 PAIRING_CLOSED otherwise.
  app.post('/pairing/session', {
    config: { publicMutation: true },
    schema: { tags: ['pairing'], summary: 'take an admin session without the token, only while a pairing window is open', body: EmptyBodySchema, response: responses({ 200: PairingSessionSchema }, [403, 503]) },
  }, async () => system.indicator.createSession());
};

/** The page's "am I signed in?" check: an authenticated no-op (401 when the bearer is not valid). */
export const sessionCheckRoutes: RoutePlugin = async (app) => {
  app.post('/session/check', {
    schema: { tags: ['pairing'], summary: 'answers 200 when the bearer (admin token or pairing session) may change things, 401 otherwise', body: EmptyBodySchema, response: responses({ 200: SessionCheckSchema }, MUTATION_ERRORS) },
  }, async () => ({ ok: true as const }));
};
