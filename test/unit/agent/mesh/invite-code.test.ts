import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { assertNotExpired, decodeInvite, encodeInvite, joinProof, macEqual, replyMac, type InvitePayload } from '../../../../agent/mesh/invite-code.ts';
import type { StationError } from '../../../../agent/errors.ts';

const payload: InvitePayload = {
  id: 'a1b2c3d4e5f6',
  secret: randomBytes(32).toString('base64url'),
  owner: 'alice',
  inviter: 's1',
  caFingerprint: 'cbde4e679841e7e41c2cd2698f313ef82920fc1590026163bf23e82fdd84ddd0',
  api: ['http://198.18.0.1:8088'],
  nebula: ['198.18.0.1:4242'],
  expiresAt: '2026-11-25T00:00:00.000Z',
};

const code = (e: unknown): string => (e as StationError).code;

test('a code round-trips everything the joiner needs', () => {
  const text = encodeInvite(payload);
  assert.ok(text.startsWith('STN1-'));
  assert.equal(decodeInvite(text), payload);
  assert.equal(decodeInvite(`  ${text}\n`), payload, 'pasted with whitespace');
});

test('damaged or foreign codes are refused with a clear error', () => {
  const text = encodeInvite(payload);
  for (const bad of ['', 'hello', text.slice(0, 30), `STN1-${Buffer.from('[2]').toString('base64url')}`, text.replace('STN1-', 'STN2-')]) {
    try {
      decodeInvite(bad);
      assert.unreachable(`accepted ${bad}`);
    } catch (e) {
      assert.is(code(e), 'MESH_INVITE_INVALID');
      assert.match((e as Error).message, /invite code/);
    }
  }
});

test('a code whose Nebula endpoints are not HOST:PORT is refused', () => {
  for (const nebula of [['198.18.0.1:99999'], ['198.18.0.1:4242\n  am_lighthouse: true']]) {
    assert.throws(
      () => decodeInvite(encodeInvite({ ...payload, nebula })),
      (e: unknown) => code(e) === 'MESH_INVITE_INVALID',
    );
  }
});

test('a code with a bad fingerprint is refused', () => {
  const text = encodeInvite({ ...payload, caFingerprint: 'not-hex' });
  assert.throws(
    () => decodeInvite(text),
    (e: unknown) => code(e) === 'MESH_INVITE_INVALID',
  );
});

test('expiry: valid until the instant, refused from then on', () => {
  assertNotExpired(payload.expiresAt, new Date('2026-11-24T23:59:59.999Z'));
  try {
    assertNotExpired(payload.expiresAt, new Date('2026-11-25T00:00:00.000Z'));
    assert.unreachable();
  } catch (e) {
    assert.is(code(e), 'MESH_INVITE_EXPIRED');
    assert.is((e as StationError).kind, 'conflict');
  }
});

test('the join proof binds the secret to the name, key, nonce, endpoint and API port', () => {
  const f = { inviteId: payload.id, name: 's2', publicKey: 'PEM', nonce: 'n1', endpoint: '', apiPort: 8088 };
  const proof = joinProof(payload.secret, f);
  assert.ok(macEqual(proof, joinProof(payload.secret, { ...f })));
  for (const changed of [
    { ...f, name: 's3' },
    { ...f, publicKey: 'OTHER' },
    { ...f, nonce: 'n2' },
    { ...f, endpoint: '1.2.3.4:1' },
    { ...f, apiPort: 8089 },
  ]) {
    assert.not.ok(macEqual(proof, joinProof(payload.secret, changed)));
  }
  assert.not.ok(macEqual(proof, joinProof(randomBytes(32).toString('base64url'), f)), 'another secret');
});

test('the reply MAC covers the exact reply text and the joiner nonce', () => {
  const mac = replyMac(payload.secret, 'n1', '{"ca":"x"}');
  assert.ok(macEqual(mac, replyMac(payload.secret, 'n1', '{"ca":"x"}')));
  assert.not.ok(macEqual(mac, replyMac(payload.secret, 'n1', '{"ca":"y"}')));
  assert.not.ok(macEqual(mac, replyMac(payload.secret, 'n2', '{"ca":"x"}')), 'a replayed reply for another request');
  assert.not.ok(macEqual(mac, mac.slice(1)));
});

test.run();
