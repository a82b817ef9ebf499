// The admin token: made once at first start, kept in <stateDir>/admin-token with mode 0600 so only
// root on the station (or whoever holds the file) can change things through the API.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync, chmodSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../store/atomic-file.ts';

export const tokenFile = (stateDir: string): string => join(stateDir, 'admin-token');

/** The token a running agent made, for a client on the station (tests, tools); never makes one. */
export const readAdminToken = async (stateDir: string): Promise<string> => (await readFile(tokenFile(stateDir), 'utf8')).trim();

/** Reads the token, making it first if there is none. Tightens a file that was left readable by others. */
export function ensureAdminToken(stateDir: string): string {
  const file = tokenFile(stateDir);
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 32) {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return token;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = `st_${randomBytes(32).toString('base64url')}`;
  writeFileAtomicSync(file, `${token}\n`, 0o600);
  return token;
}

/** Constant-time comparison: hashing first makes both sides the same length, so length leaks nothing. */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
