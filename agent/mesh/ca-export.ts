// Passphrase-encrypted backup of the owner's authority (CA key and certificate, and the owner's disk
// key: the password of every copy of the owner's nodes, agent/disk/owner-key.ts). Pure apart from
// randomness: scrypt derives the key, AES-256-GCM encrypts and authenticates. The key never leaves
// the station otherwise; this blob is what the owner stores somewhere safe.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { ForbiddenError, ValidationError } from '../errors.ts';

export interface CaExport {
  format: 'station-mesh-ca/v1';
  owner: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  iv: string;
  tag: string;
  ciphertext: string;
}

const N = 2 ** 15;
const R = 8;
const P = 1;
const MIN_PASSPHRASE = 12;

const derive = (passphrase: string, salt: Buffer, n: number, r: number, p: number): Buffer =>
  scryptSync(passphrase, salt, 32, { N: n, r, p, maxmem: 128 * n * r * 2 });

export function encryptCa(owner: string, caKeyPem: string, caCrtPem: string, passphrase: string, diskKey?: string): CaExport {
  if (passphrase.length < MIN_PASSPHRASE) throw new ValidationError('MESH_PASSPHRASE_WEAK', `the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(passphrase, salt, N, R, P), iv);
  const plain = Buffer.from(JSON.stringify({ owner, caKey: caKeyPem, caCrt: caCrtPem, ...(diskKey ? { diskKey } : {}) }));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    format: 'station-mesh-ca/v1',
    owner,
    kdf: { name: 'scrypt', N, r: R, p: P, salt: salt.toString('base64') },
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** What an export holds; `diskKey` is missing from exports made before disk keys existed. */
export function decryptCa(blob: CaExport, passphrase: string): { owner: string; caKey: string; caCrt: string; diskKey?: string } {
  if (blob.format !== 'station-mesh-ca/v1') throw new ValidationError('MESH_EXPORT_INVALID', 'not a station CA export');
  const key = derive(passphrase, Buffer.from(blob.kdf.salt, 'base64'), blob.kdf.N, blob.kdf.r, blob.kdf.p);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(blob.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(blob.tag, 'base64'));
  try {
    return JSON.parse(Buffer.concat([decipher.update(Buffer.from(blob.ciphertext, 'base64')), decipher.final()]).toString('utf8'));
  } catch {
    throw new ForbiddenError('MESH_EXPORT_PASSPHRASE', 'the passphrase is wrong or the export is damaged');
  }
}
