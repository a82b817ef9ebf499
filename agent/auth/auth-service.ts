// Decides whether a request may change things. Reads are open to the LAN; every mutation needs
// `Authorization: Bearer <admin token>`. Other credentials (pairing sessions, mesh identities)
// plug in here as extra verifiers so routes never check credentials themselves.
import { TooManyRequestsError, UnauthorizedError } from '../errors.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { tokensEqual } from './admin-token.ts';

export type CredentialVerifier = (bearer: string) => boolean;

export class AuthService {
  private readonly adminToken: string;
  private readonly limiter: FailureLimiter;
  private readonly verifiers: CredentialVerifier[] = [];
  failuresTotal = 0;

  constructor(adminToken: string, failureLimit: number) {
    this.adminToken = adminToken;
    this.limiter = new FailureLimiter(failureLimit);
  }

  /** Accept another kind of bearer credential (e.g. a session made in a pairing window). */
  addVerifier(verifier: CredentialVerifier): void {
    this.verifiers.push(verifier);
  }

  /**
   * For reads that show an admin more (env values, pairing events): true when the bearer is valid.
   * A wrong bearer counts as a failed attempt, so reads are no way around the guessing limit; no
   * Authorization header at all is simply an anonymous reader.
   */
  isAdmin(authorization: string | undefined, client: string): boolean {
    if (authorization === undefined) return false;
    try {
      this.authorizeMutation(authorization, client);
      return true;
    } catch {
      return false;
    }
  }

  /** Throws UnauthorizedError or TooManyRequestsError; returns normally when the caller may mutate. */
  authorizeMutation(authorization: string | undefined, client: string): void {
    const wait = this.limiter.retryAfter(client);
    if (wait > 0) throw new TooManyRequestsError(`too many failed authentication attempts; try again in ${wait} s`, wait);
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (bearer && (tokensEqual(bearer, this.adminToken) || this.verifiers.some((verify) => verify(bearer)))) return;
    this.failuresTotal++;
    this.limiter.recordFailure(client);
    throw new UnauthorizedError(bearer ? 'the token is not valid' : 'this action needs Authorization: Bearer <admin token>');
  }
}
