import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, statSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAdminToken, tokensEqual, tokenFile } from '../../../../agent/auth/admin-token.ts';
import { FailureLimiter } from '../../../../agent/auth/failure-limiter.ts';
import { AuthService } from '../../../../agent/auth/auth-service.ts';
import { TooManyRequestsError, UnauthorizedError } from '../../../../agent/errors.ts';

test('the admin token is made once, mode 0600, and kept', () => {
  const d = mkdtempSync(join(tmpdir(), 'st-auth-'));
  try {
    checkToken(d);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

function checkToken(d: string): void {
  const first = ensureAdminToken(d);
  assert.ok(first.length >= 40);
  assert.is(statSync(tokenFile(d)).mode & 0o777, 0o600);
  assert.is(ensureAdminToken(d), first);
  chmodSync(tokenFile(d), 0o644);
  assert.is(ensureAdminToken(d), first);
  assert.is(statSync(tokenFile(d)).mode & 0o777, 0o600, 'a loosened file is tightened again');
}

test('token comparison', () => {
  assert.ok(tokensEqual('abc', 'abc'));
  assert.not.ok(tokensEqual('abc', 'abd'));
  assert.not.ok(tokensEqual('abc', 'abcd'));
  assert.not.ok(tokensEqual('', 'abc'));
});

test('the limiter blocks a client after the limit, for the rest of the window, and only that client', () => {
  let now = 0;
  const limiter = new FailureLimiter(3, 60_000, () => now);
  for (let i = 0; i < 3; i++) limiter.recordFailure('a');
  assert.is(limiter.retryAfter('a'), 60);
  assert.is(limiter.retryAfter('b'), 0);
  now = 30_000;
  assert.is(limiter.retryAfter('a'), 30);
  now = 60_000;
  assert.is(limiter.retryAfter('a'), 0);
});

test('auth service: right token passes, wrong or missing fails, repeated failures are rate limited', () => {
  const auth = new AuthService('secret-token', 2);
  auth.authorizeMutation('Bearer secret-token', 'c1');
  assert.throws(
    () => auth.authorizeMutation(undefined, 'c1'),
    (e: unknown) => e instanceof UnauthorizedError,
  );
  assert.throws(
    () => auth.authorizeMutation('Bearer nope', 'c1'),
    (e: unknown) => e instanceof UnauthorizedError,
  );
  assert.throws(
    () => auth.authorizeMutation('Bearer secret-token', 'c1'),
    (e: unknown) => e instanceof TooManyRequestsError,
    'even the right token waits out the block',
  );
  auth.authorizeMutation('Bearer secret-token', 'c2');
  assert.is(auth.failuresTotal, 2);
});

test('extra verifiers (pairing sessions) are accepted', () => {
  const auth = new AuthService('secret-token', 5);
  auth.addVerifier((b) => b === 'session-1');
  auth.authorizeMutation('Bearer session-1', 'c');
  assert.throws(() => auth.authorizeMutation('Bearer session-2', 'c'));
});

test.run();
