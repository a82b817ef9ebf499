// The store's users: one htpasswd line per calling station, which rclone re-reads live (measured:
// a line added works at once, a line removed gets 401 at once). Pure apart from randomness.
//
// The hash is the {SHA} form (base64 of SHA-1). An unsalted fast hash is weak for passwords people
// choose, because those can be guessed; these are 32 random bytes (256 bits) made here, so no guess
// or precomputed table can find one, and bcrypt's cost would buy nothing but CPU on every request.
import { createHash, randomBytes } from 'node:crypto';

/** A store user: `<station>.<owner>`. Unique across owners, so a community store can hold several owners' stations. */
export const storeUser = (station: string, owner: string): string => `${station}.${owner}`;

/** A station or owner name as the mesh allows them (DNS labels): nothing else reaches a path or the htpasswd file. */
export const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** 32 random bytes, URL-safe (it goes into restic's rest: URL as the basic-auth password). */
export const newPassword = (): string => randomBytes(32).toString('base64url');

export const htpasswdLine = (user: string, password: string): string => `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}`;

/** The file's lines with `user`'s replaced by `line` (or removed when line is null). */
export function setUser(text: string, user: string, line: string | null): string {
  const kept = text.split('\n').filter((l) => l.trim() !== '' && l.slice(0, l.indexOf(':')) !== user);
  if (line) kept.push(line);
  return kept.length ? `${kept.join('\n')}\n` : '';
}

/** The users named in an htpasswd file. */
export const usersOf = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l.includes(':'))
    .map((l) => l.slice(0, l.indexOf(':')));
