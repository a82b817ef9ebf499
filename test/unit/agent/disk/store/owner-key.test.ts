// The owner's disk key (the restic password of every copy): made once by the owner's authority,
// 0600, kept in the authority's passphrase-encrypted export; a member keeps what its authority sends.
// The authority runs the real nebula-cert (test/helpers/mesh-authority.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureOwnerDiskKey, ownerDiskKey, ownerKeyFile, saveOwnerDiskKey } from '../../../../../agent/disk/owner-key.ts';
import { decryptCa, encryptCa } from '../../../../../agent/mesh/ca-export.ts';
import { refusal, testAuthority } from '../../../../helpers/mesh-authority.ts';
import { removeTempDirs, tempDir } from '../../../../helpers/temp-dirs.ts';

test.after(removeTempDirs);

test("making the owner's mesh makes the owner's disk key: 32 random bytes, mode 0600, made once", async () => {
  const { mesh } = await testAuthority('station-owner-key-', 'alice');
  const key = await ownerDiskKey(mesh.config.stateDir);
  assert.ok(key, 'the authority has the key once the mesh is made');
  assert.match(key!, /^[A-Za-z0-9_-]{43}$/);
  assert.is(statSync(ownerKeyFile(mesh.config.stateDir)).mode & 0o777, 0o600);
  assert.is(statSync(join(mesh.config.stateDir, 'disk')).mode & 0o777, 0o700);
  assert.is(await ensureOwnerDiskKey(mesh.config.stateDir), key, 'never made again');
  const other = await testAuthority('station-owner-key-', 'bob');
  assert.is.not(await ownerDiskKey(other.mesh.config.stateDir), key, "another owner's key is its own");
});

test("the authority's export carries the disk key and gives it back with the passphrase", async () => {
  const { mesh, authority } = await testAuthority('station-owner-key-', 'alice');
  const blob = await authority.exportCa('correct horse battery');
  assert.not.match(JSON.stringify(blob), (await ownerDiskKey(mesh.config.stateDir))!);
  const back = decryptCa(blob, 'correct horse battery');
  assert.is(back.diskKey, await ownerDiskKey(mesh.config.stateDir));
  // an export made before disk keys existed still opens, without one
  assert.is(decryptCa(encryptCa('alice', 'k', 'c', 'correct horse battery'), 'correct horse battery').diskKey, undefined);
});

test('a member keeps the key its authority sent; a different one replaces it and the old is kept; junk changes nothing', async () => {
  const stateDir = join(tempDir('station-owner-key-'), 'state');
  assert.is(await ownerDiskKey(stateDir), null);
  const key = 'A'.repeat(43);
  assert.is(await saveOwnerDiskKey(stateDir, key), true);
  assert.is(await saveOwnerDiskKey(stateDir, key), false);
  assert.is(await ownerDiskKey(stateDir), key);
  assert.is(statSync(ownerKeyFile(stateDir)).mode & 0o777, 0o600);
  assert.is(await refusal(saveOwnerDiskKey(stateDir, 'short')), 'invalid:DISK_KEY_INVALID');
  assert.is(await refusal(saveOwnerDiskKey(stateDir, `${'B'.repeat(42)}\n`)), 'invalid:DISK_KEY_INVALID');
  assert.is(await ownerDiskKey(stateDir), key);
  await saveOwnerDiskKey(stateDir, 'B'.repeat(43));
  assert.is(await ownerDiskKey(stateDir), 'B'.repeat(43));
  assert.is(statSync(`${ownerKeyFile(stateDir)}.previous`).mode & 0o777, 0o600);
  writeFileSync(ownerKeyFile(stateDir), 'not a key\n');
  assert.is(await ownerDiskKey(stateDir), null, 'a damaged key file is no key');
});

test.run();
