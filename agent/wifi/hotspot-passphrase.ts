// The setup hotspot's WPA2 passphrase: one per box, made at the first start and kept in
// <stateDir>/hotspot-passphrase (mode 0600, like the admin token). A passphrase put there beforehand
// (say, printed on the box's label when it was prepared) is used as it is. It is shown where only
// someone at the box can read it: the console (setup-wifi.issue, which the image links into
// /etc/issue.d for agetty) and, to an admin, GET /api/v1/wifi/hotspot.
import { randomInt } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { ValidationError } from '../errors.ts';

export const passphraseFile = (stateDir: string): string => join(stateDir, 'hotspot-passphrase');
export const consoleIssueFile = (stateDir: string): string => join(stateDir, 'setup-wifi.issue');

// Easy to read off a screen and type on a phone: no 0/o, 1/l/i. 16 of 31 symbols: about 79 bits.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const WPA_PASSPHRASE = /^[\x20-\x7e]{8,63}$/;

export function newPassphrase(): string {
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  return groups.join('-');
}

/** Reads the box's passphrase, making it first if there is none; a file that holds no WPA passphrase is refused, not replaced. */
export async function ensureHotspotPassphrase(stateDir: string): Promise<string> {
  const file = passphraseFile(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const made = newPassphrase();
    await writeFileAtomic(file, `${made}\n`, 0o600);
    return made;
  }
  const passphrase = text.replace(/\r?\n$/, '');
  if (!WPA_PASSPHRASE.test(passphrase))
    throw new ValidationError('INVALID_HOTSPOT_PASSPHRASE', `${file} does not hold a WPA passphrase (one line of 8 to 63 printable ASCII characters)`);
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return passphrase;
}

/** agetty's issue-file text: `\` starts an escape there, so it is doubled. */
export function consoleIssue(ssid: string, passphrase: string): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\');
  return `Station setup Wi-Fi (opens when this station has no network): "${esc(ssid)}", WPA2 passphrase: ${esc(passphrase)}\n\n`;
}

/** Writes the console notice (0600: agetty reads it as root; nobody else needs to). */
export async function writeConsoleIssue(stateDir: string, ssid: string, passphrase: string): Promise<void> {
  await writeFileAtomic(consoleIssueFile(stateDir), consoleIssue(ssid, passphrase), 0o600);
}
