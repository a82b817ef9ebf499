// Secrets for nmcli go in a passwd-file. The encoding is checked against what the real nmcli 1.42.4
// read back from each line (recorded: test/fixtures/nmcli/passwd-file-decoding.jsonl, through an
// 802.1X profile whose stored password `nmcli -s` shows), so a password with spaces at either end,
// backslashes, tabs or non-ASCII letters reaches NetworkManager byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { passwdFileLine, withPasswdFile } from '../../../../hardware/wifi/passwd-file.ts';

const recorded = readFileSync(new URL('../../../fixtures/nmcli/passwd-file-decoding.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { line: string; stored: string; expected: string });

test('each recorded secret: our line is the one nmcli read back as exactly that secret', () => {
  assert.ok(recorded.length >= 10);
  for (const { line, stored, expected } of recorded) {
    assert.is(stored, expected, `nmcli read ${line} as ${JSON.stringify(stored)}`);
    assert.is(passwdFileLine('802-1x.password', expected), `${line}\n`);
  }
});

test('the file exists only while in use, in a private directory, mode 0600', async () => {
  let seen = '';
  const content = await withPasswdFile({ '802-11-wireless-security.psk': 'k7pm-xq4r-2nwd-h9tc' }, async (file) => {
    seen = file;
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.is(statSync(dirname(file)).mode & 0o777, 0o700);
    return readFileSync(file, 'utf8');
  });
  assert.is(content, '802-11-wireless-security.psk:k7pm-xq4r-2nwd-h9tc\n');
  assert.not.ok(existsSync(dirname(seen)));
  // Also when the use fails.
  await withPasswdFile({ 'wifi-sec.psk': 'abcdefgh' }, async (file) => {
    seen = file;
    throw new Error('nmcli failed');
  }).catch(() => undefined);
  assert.not.ok(existsSync(dirname(seen)));
});

test('a property name that is not setting.property is refused (it would change what nmcli reads)', () => {
  assert.throws(() => passwdFileLine('psk\n802-1x.password', 'x'), /not a setting.property/);
});

test.run();
