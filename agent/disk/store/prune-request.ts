// A prune request: the owner's authority lets one store make one repository writable for a while,
// so the owner's station can run `restic forget --prune` there. Signed with the owner's CA key
// (Nebula's CA key is Ed25519, which node:crypto signs with directly) and checked by the store with
// the CA's public key from its own mesh state: only the station holding the CA key can make one.
// Pure apart from randomness and the clock passed in.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { ForbiddenError, ValidationError } from '../../errors.ts';
import { NAME } from './htpasswd.ts';

export const PRUNE_FORMAT = 'station-disk-prune/v1';
/** a request is taken this long after it was signed, no longer */
const VALID_MS = 7 * 86_400_000;

export interface PruneRequest {
  format: typeof PRUNE_FORMAT;
  owner: string;
  /** the station whose store holds the repository */
  store: string;
  /** the station whose repository it is */
  station: string;
  /** the repository's directory (the node) */
  repository: string;
  /** ISO time before which the window may not open (the store adds its own delay) */
  notBefore: string;
  expiresAt: string;
  nonce: string;
}

export interface SignedPrune {
  /** the request's JSON text, exactly as signed */
  request: string;
  /** Ed25519 signature over `request`, base64 */
  signature: string;
}

/** The Ed25519 key inside a `NEBULA ED25519 PRIVATE KEY` PEM (64 bytes: seed, then public key). */
function caPrivateKey(pem: string) {
  const m = /-----BEGIN NEBULA ED25519 PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END NEBULA ED25519 PRIVATE KEY-----/.exec(pem);
  const raw = m ? Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64') : Buffer.alloc(0);
  if (raw.length !== 64) throw new ValidationError('DISK_PRUNE_KEY_INVALID', "the owner's CA key is not a Nebula Ed25519 key");
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: raw.subarray(0, 32).toString('base64url'), x: raw.subarray(32).toString('base64url') },
    format: 'jwk',
  });
}

export function signPrune(
  caKeyPem: string,
  fields: { owner: string; store: string; station: string; repository: string; notBefore?: Date },
  now: Date,
): SignedPrune {
  for (const [what, value] of [
    ['store', fields.store],
    ['station', fields.station],
    ['repository', fields.repository],
  ] as const)
    if (!NAME.test(value)) throw new ValidationError('DISK_PRUNE_INVALID', `${what} must be a name (a DNS label)`);
  const request: PruneRequest = {
    format: PRUNE_FORMAT,
    owner: fields.owner,
    store: fields.store,
    station: fields.station,
    repository: fields.repository,
    notBefore: (fields.notBefore ?? now).toISOString(),
    expiresAt: new Date(now.getTime() + VALID_MS).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  };
  const text = JSON.stringify(request);
  return { request: text, signature: sign(null, Buffer.from(text), caPrivateKey(caKeyPem)).toString('base64') };
}

/**
 * The store's check: signed by the owner's CA (its public key as nebula-cert prints it, hex), for
 * this owner and this store, well-formed, not expired. Whether the nonce is new is the caller's.
 */
export function verifyPrune(signed: SignedPrune, expect: { caPublicKeyHex: string; owner: string; store: string; now: Date }): PruneRequest {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(expect.caPublicKeyHex, 'hex').toString('base64url') }, format: 'jwk' });
  const good =
    typeof signed.request === 'string' &&
    typeof signed.signature === 'string' &&
    verify(null, Buffer.from(signed.request), key, Buffer.from(signed.signature, 'base64'));
  if (!good) throw new ForbiddenError('DISK_PRUNE_SIGNATURE', "the prune request is not signed by the owner's authority");
  const r = JSON.parse(signed.request) as PruneRequest;
  if (r.format !== PRUNE_FORMAT || ![r.station, r.repository, r.store].every((n) => typeof n === 'string' && NAME.test(n)) || typeof r.nonce !== 'string')
    throw new ValidationError('DISK_PRUNE_INVALID', 'the prune request is not well-formed');
  if (r.owner !== expect.owner) throw new ForbiddenError('DISK_PRUNE_OWNER', `the prune request is for ${r.owner}'s stations, not ${expect.owner}'s`);
  if (r.store !== expect.store) throw new ForbiddenError('DISK_PRUNE_STORE', `the prune request is for the store on ${r.store}, not this one`);
  const expires = Date.parse(r.expiresAt);
  if (!Number.isFinite(expires) || !Number.isFinite(Date.parse(r.notBefore)) || expires <= expect.now.getTime())
    throw new ForbiddenError('DISK_PRUNE_EXPIRED', 'the prune request has expired');
  return r;
}
