// The hotspot's passphrase: one per box, 0600 in the state dir, kept across restarts; one put there
// beforehand is used; a file that holds no WPA passphrase is refused and left as it is.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHotspotPassphrase, consoleIssue, passphraseFile } from '../../../../agent/wifi/hotspot-passphrase.ts';

const dirs: string[] = [];
const stateDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'hotspot-pp-'));
  dirs.push(d);
  return d;
};
test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('made once (0600), then the same one every start; two boxes get different ones', async () => {
  const a = await stateDir();
  const first = await ensureHotspotPassphrase(a);
  assert.match(first, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  assert.is((await stat(passphraseFile(a))).mode & 0o777, 0o600);
  assert.is(await ensureHotspotPassphrase(a), first);
  assert.is.not(await ensureHotspotPassphrase(await stateDir()), first);
});

test('one put there beforehand (a label printed at preparation) is used, and a loose mode is tightened', async () => {
  const d = await stateDir();
  await writeFile(passphraseFile(d), 'Printed On The Label 42\n');
  await chmod(passphraseFile(d), 0o644);
  assert.is(await ensureHotspotPassphrase(d), 'Printed On The Label 42');
  assert.is((await stat(passphraseFile(d))).mode & 0o777, 0o600);
});

test('a file holding no WPA passphrase is refused with the reason, and not replaced', async () => {
  const d = await stateDir();
  await writeFile(passphraseFile(d), 'short\n', { mode: 0o600 });
  try {
    await ensureHotspotPassphrase(d);
    assert.unreachable('refused');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'INVALID_HOTSPOT_PASSPHRASE');
    assert.match((error as Error).message, /8 to 63 printable ASCII/);
  }
  assert.is(await readFile(passphraseFile(d), 'utf8'), 'short\n');
});

test('the console text (agetty issue file): backslashes doubled, as agetty reads them as escapes', () => {
  assert.is(
    consoleIssue('den\\setup', 'k7pm-xq4r-2nwd-h9tc'),
    'Station setup Wi-Fi (opens when this station has no network): "den\\\\setup", WPA2 passphrase: k7pm-xq4r-2nwd-h9tc\n\n',
  );
});

test.run();
