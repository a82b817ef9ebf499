// Secrets reach nmcli through a `passwd-file` (nmcli(1), `connection up ... passwd-file FILE`), never
// through its argv, which any process can read in /proc/PID/cmdline. Each line is
// `setting.property:secret`. nmcli 1.42 strips white space around the secret and then undoes C-style
// escapes (\\, \t, \NNN octal ...) in it, as recorded against the real nmcli in
// test/fixtures/nmcli/passwd-file-decoding.jsonl; the encoder below writes any secret so that it
// comes back byte for byte: a backslash doubled, spaces, controls and non-ASCII bytes as octal.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The secret as the value part of a passwd-file line. */
export function passwdFileValue(secret: string): string {
  let out = '';
  for (const byte of Buffer.from(secret, 'utf8')) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte <= 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** One passwd-file line (property such as `802-11-wireless-security.psk`). */
export function passwdFileLine(property: string, secret: string): string {
  if (!/^[a-z0-9-]+\.[a-z0-9-]+$/.test(property)) throw new Error(`not a setting.property name: ${property}`);
  return `${property}:${passwdFileValue(secret)}\n`;
}

/**
 * Runs `use` with the path of a passwd-file holding `secrets` ({ property: secret }), in a fresh
 * directory only the agent's user can enter (0700, the file 0600), removed afterwards in any case.
 */
export async function withPasswdFile<T>(secrets: Record<string, string>, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'station-nm-'));
  try {
    const file = join(dir, 'secrets');
    await writeFile(
      file,
      Object.entries(secrets)
        .map(([property, secret]) => passwdFileLine(property, secret))
        .join(''),
      { mode: 0o600, flag: 'wx' },
    );
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
