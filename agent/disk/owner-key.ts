// The owner's disk key: the password of every restic repository holding copies of the owner's
// nodes. Made once by the owner's authority (32 random bytes), kept at <stateDir>/disk/owner.key
// (mode 0600, directory 0700), handed to the owner's members over the mesh with the directory
// (identified callers only: agent/mesh/identity.ts), kept in the authority's passphrase-encrypted
// export. Never sent to a store: peers hold ciphertext only.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';

/** 32 bytes, base64url: 43 characters. */
const KEY = /^[A-Za-z0-9_-]{43}$/;

export const ownerKeyFile = (stateDir: string): string => join(stateDir, 'disk', 'owner.key');

/** The owner's disk key on this station, or null when it has none (yet). */
export async function ownerDiskKey(stateDir: string): Promise<string | null> {
  const text = await readFile(ownerKeyFile(stateDir), 'utf8').catch(() => null);
  const key = text?.trim() ?? null;
  return key && KEY.test(key) ? key : null;
}

/** The authority's side: the key, made now when there is none (exclusive create, so two callers agree). */
export async function ensureOwnerDiskKey(stateDir: string): Promise<string> {
  const existing = await ownerDiskKey(stateDir);
  if (existing) return existing;
  await mkdir(join(stateDir, 'disk'), { recursive: true, mode: 0o700 });
  try {
    await writeFile(ownerKeyFile(stateDir), `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await ownerDiskKey(stateDir))!;
}

/**
 * A member's side: keeps the key its authority sent (or an import restored). A different key
 * replaces the one here (the authority's is the owner's), the old one kept as owner.key.previous,
 * since repositories made with it would otherwise be unreadable.
 */
export async function saveOwnerDiskKey(stateDir: string, key: string): Promise<boolean> {
  if (typeof key !== 'string' || !KEY.test(key)) throw new ValidationError('DISK_KEY_INVALID', "the owner's disk key is not 32 bytes in base64url");
  const existing = await ownerDiskKey(stateDir);
  if (existing === key) return false;
  await mkdir(join(stateDir, 'disk'), { recursive: true, mode: 0o700 });
  if (existing) await rename(ownerKeyFile(stateDir), `${ownerKeyFile(stateDir)}.previous`);
  await writeFileAtomic(ownerKeyFile(stateDir), `${key}\n`, 0o600);
  return true;
}
