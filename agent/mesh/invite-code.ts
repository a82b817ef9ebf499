// Invite codes and the join handshake's proofs. Pure: no I/O, the clock is a parameter.
//
// A code carries what a new station needs to reach its inviter before it is in the mesh (the
// inviter's public API and Nebula endpoints), the fingerprint of the owner's CA (the joiner pins
// the CA it receives to it) and a one-time secret. The joiner proves it knows the secret with an
// HMAC over its whole request (name, public key, nonce, Nebula endpoint, API port), so the secret
// never crosses the wire and nothing in the request can be changed on the way; the inviter
// answers with an HMAC over its reply (bound to the joiner's nonce), so a man in the middle can
// neither use the code nor hand the joiner a different CA or certificate.
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors.ts';
import { isEndpoint } from './endpoint.ts';

export const INVITE_PREFIX = 'STN1-';

export interface InvitePayload {
  /** invite id (not secret) */
  id: string;
  /** one-time secret, base64url, 32 bytes */
  secret: string;
  owner: string;
  /** the inviting station's name */
  inviter: string;
  /** SHA-256 fingerprint of the owner's CA certificate (hex, as nebula-cert prints it) */
  caFingerprint: string;
  /** URLs of the inviter's API reachable from the internet */
  api: string[];
  /** HOST:PORT of the inviter's Nebula reachable from the internet (may be empty) */
  nebula: string[];
  /** expiry, ISO time */
  expiresAt: string;
}

export function encodeInvite(payload: InvitePayload): string {
  const compact = [1, payload.id, payload.secret, payload.owner, payload.inviter, payload.caFingerprint, payload.api, payload.nebula, payload.expiresAt];
  return INVITE_PREFIX + Buffer.from(JSON.stringify(compact)).toString('base64url');
}

const invalid = (why: string) =>
  new ValidationError('MESH_INVITE_INVALID', `this is not a valid invite code (${why}); copy the whole code printed by "station mesh invite"`);

export function decodeInvite(code: string): InvitePayload {
  const text = code.trim();
  if (!text.startsWith(INVITE_PREFIX)) throw invalid(`it does not start with ${INVITE_PREFIX}`);
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text.slice(INVITE_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalid('it is damaged');
  }
  if (!Array.isArray(parts) || parts[0] !== 1 || parts.length !== 9) throw invalid('unknown format');
  const [, id, secret, owner, inviter, caFingerprint, api, nebula, expiresAt] = parts as unknown[];
  const strings = [id, secret, owner, inviter, caFingerprint, expiresAt];
  if (!strings.every((s) => typeof s === 'string' && s.length > 0)) throw invalid('a field is missing');
  if (!/^[0-9a-f]{64}$/.test(caFingerprint as string)) throw invalid('bad CA fingerprint');
  if (!Array.isArray(api) || !api.length || !api.every((u) => typeof u === 'string' && /^https?:\/\//.test(u))) throw invalid('no API address');
  if (!Array.isArray(nebula) || !nebula.every((u) => typeof u === 'string' && isEndpoint(u))) throw invalid('bad Nebula endpoints');
  if (Number.isNaN(Date.parse(expiresAt as string))) throw invalid('bad expiry');
  return { id, secret, owner, inviter, caFingerprint, api, nebula, expiresAt } as InvitePayload;
}

/** Refuses a code whose time is up (checked by the joiner before it calls, and by the inviter). */
export function assertNotExpired(expiresAt: string, now: Date): void {
  if (Date.parse(expiresAt) <= now.getTime()) {
    throw new ConflictError('MESH_INVITE_EXPIRED', `the invite expired at ${expiresAt}; ask for a new one with "station mesh invite"`);
  }
}

export interface JoinRequestFields {
  inviteId: string;
  name: string;
  publicKey: string;
  nonce: string;
  endpoint: string;
  apiPort: number;
}

const hmac = (secret: string, text: string): string => createHmac('sha256', Buffer.from(secret, 'base64url')).update(text).digest('base64url');

/** v2 covers the API port too (v1 left it out, so it could be changed on the way). */
export const joinProof = (secret: string, f: JoinRequestFields): string =>
  hmac(secret, ['station-mesh-join/v2', f.inviteId, f.name, f.publicKey, f.nonce, f.endpoint, String(f.apiPort)].join('\n'));

/** The inviter's reply is a JSON text; the MAC covers that exact text and the joiner's nonce. */
export const replyMac = (secret: string, nonce: string, payloadText: string): string =>
  hmac(secret, ['station-mesh-join-reply/v1', nonce, createHash('sha256').update(payloadText).digest('hex')].join('\n'));

export function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
