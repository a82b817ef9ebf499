// The store's pure pieces: htpasswd lines (rclone re-reads the file live, so what is written here is
// what admits a station), du output, and when the store counts as full.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { htpasswdLine, NAME, newPassword, setUser, storeUser, usersOf } from '../../../../../agent/disk/store/htpasswd.ts';
import { fullReason, parseDu, reserveFor, roomLeft } from '../../../../../agent/disk/store/usage.ts';

test('a station is a store user <station>.<owner>, with a {SHA} line that never holds the password', () => {
  assert.is(storeUser('s2', 'alice'), 's2.alice');
  const pw = newPassword();
  assert.match(pw, /^[A-Za-z0-9_-]{43}$/);
  assert.is.not(newPassword(), pw);
  // the SHA-1 of "password" is known: W6ph5Mm5Pz8GgiULbPgzG37mj9g=
  assert.is(htpasswdLine('s2.alice', 'password'), 's2.alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=');
  assert.not.match(htpasswdLine('s2.alice', pw), pw);
});

test("setting a user's line replaces only that user's; removing it leaves the others", () => {
  let text = setUser('', 's2.alice', 's2.alice:{SHA}a');
  text = setUser(text, 's3.alice', 's3.alice:{SHA}b');
  text = setUser(text, 's2.alice', 's2.alice:{SHA}c');
  assert.is(text, 's3.alice:{SHA}b\ns2.alice:{SHA}c\n');
  assert.equal(usersOf(text), ['s3.alice', 's2.alice']);
  // a user whose name is a prefix of another's is not touched
  assert.is(setUser('s2.alice:{SHA}a\ns2.alicex:{SHA}b\n', 's2.alice', null), 's2.alicex:{SHA}b\n');
  assert.is(setUser('s2.alice:{SHA}a\n', 's2.alice', null), '');
});

test('names reaching paths and the file are DNS labels only', () => {
  for (const bad of ['', '..', 's2.alice', 'a/b', 'S2', '-a', 'a:b', 'x'.repeat(64)]) assert.not.ok(NAME.test(bad), bad);
  assert.ok(NAME.test('s2') && NAME.test('pi-kitchen'));
});

test('du -sb output (captured) gives bytes per path', () => {
  const out = '4096\t/s/store/s2.alice\n73550611\t/s/store\n';
  assert.equal(
    [...parseDu(out)],
    [
      ['/s/store/s2.alice', 4096],
      ['/s/store', 73550611],
    ],
  );
  assert.equal([...parseDu('du: cannot access x: No such file\n')], []);
});

test('full at the offer or when the disk is down to its reserve; room left never beyond either', () => {
  const c = { offerBytes: 1000, usedBytes: 400, diskFreeBytes: 5000, reserveBytes: 100 };
  assert.is(fullReason(c), null);
  assert.is(roomLeft(c), 600);
  assert.is(roomLeft({ ...c, diskFreeBytes: 300 }), 200);
  assert.match(fullReason({ ...c, usedBytes: 1000 })!, /offer/);
  assert.match(fullReason({ ...c, diskFreeBytes: 100 })!, /reserve/);
  assert.is(roomLeft({ ...c, usedBytes: 2000 }), 0);
  assert.is(reserveFor(10 * 2 ** 30), 512 * 2 ** 20);
  assert.is(reserveFor(100 * 2 ** 30), 2 ** 30);
});

test.run();
