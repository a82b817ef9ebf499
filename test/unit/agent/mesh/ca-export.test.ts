import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decryptCa, encryptCa } from '../../../../agent/mesh/ca-export.ts';
import type { StationError } from '../../../../agent/errors.ts';

const KEY = '-----BEGIN NEBULA ED25519 PRIVATE KEY-----\nsecret\n-----END NEBULA ED25519 PRIVATE KEY-----\n';
const CRT = '-----BEGIN NEBULA CERTIFICATE-----\npublic\n-----END NEBULA CERTIFICATE-----\n';

test('the export round-trips with the passphrase and does not contain the key in clear', () => {
  const blob = encryptCa('alice', KEY, CRT, 'correct horse battery');
  assert.not.match(JSON.stringify(blob), /secret|PRIVATE/);
  assert.equal(decryptCa(blob, 'correct horse battery'), { owner: 'alice', caKey: KEY, caCrt: CRT });
});

test('a wrong passphrase or a tampered blob is refused', () => {
  const blob = encryptCa('alice', KEY, CRT, 'correct horse battery');
  assert.throws(
    () => decryptCa(blob, 'wrong horse battery!'),
    (e: unknown) => (e as StationError).code === 'MESH_EXPORT_PASSPHRASE',
  );
  const tampered = {
    ...blob,
    ciphertext: Buffer.from(Buffer.from(blob.ciphertext, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64'),
  };
  assert.throws(
    () => decryptCa(tampered, 'correct horse battery'),
    (e: unknown) => (e as StationError).code === 'MESH_EXPORT_PASSPHRASE',
  );
});

test('a short passphrase is refused before anything is encrypted', () => {
  assert.throws(
    () => encryptCa('alice', KEY, CRT, 'short'),
    (e: unknown) => (e as StationError).code === 'MESH_PASSPHRASE_WEAK',
  );
});

test.run();
