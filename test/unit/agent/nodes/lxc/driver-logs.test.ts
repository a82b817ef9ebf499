// LxcDriver.logs() on a real node directory (no container needed to read logs): what a hostile
// node leaves in its logs folder, or prints on its console, comes out as a short note or as
// plain, bounded text, never as a host file or terminal escapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, rename, symlink, truncate, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { LxcDriver } from '../../../../../agent/nodes/lxc/driver.ts';
import type { Runner } from '../../../../../agent/exec.ts';
import { removeTempDirs, tempDir } from '../../../../helpers/temp-dirs.ts';

const SECRET = 'the-admin-token-0123456789';
// logs() runs no program: a runner that fails the test if it is ever called
const noPrograms: Runner = async (argv) => {
  throw new Error(`logs() ran ${argv.join(' ')}`);
};
let host: string;
let driver: LxcDriver;
const node = (...p: string[]) => join(host, 'lxc', 'web', ...p);

test.before.each(async () => {
  host = tempDir('driver-logs-');
  await mkdir(node('logs'), { recursive: true });
  await writeFile(join(host, 'admin-token'), SECRET);
  driver = new LxcDriver({
    lxcPath: join(host, 'lxc'),
    templateCache: join(host, 'templates'),
    run: noPrograms,
    log: pino({ level: 'silent' }),
  });
});
test.after(removeTempDirs);

test('the three logs come out in sections, each cut to the asked number of lines', async () => {
  await writeFile(node('console.log'), 'boot 1\nboot 2\nboot 3\n');
  await writeFile(node('logs/modules.log'), '[station] module web starting\nserving\n');
  await writeFile(node('lxc.log'), 'lxc-start WARN something\n');
  assert.is(
    await driver.logs('web', { lines: 2 }),
    '== init ==\nboot 2\nboot 3\n== modules ==\n[station] module web starting\nserving\n== lxc ==\nlxc-start WARN something',
  );
});

test('a module log linked to a host secret gives a note, not the secret', async () => {
  await writeFile(node('console.log'), 'booted\n');
  await symlink(join(host, 'admin-token'), node('logs/modules.log'));
  const text = await driver.logs('web', { lines: 100 });
  assert.not.match(text, SECRET);
  assert.match(text, /== init ==\nbooted\n== modules ==\n\[station\] logs\/modules\.log not shown: modules\.log is a symbolic link, not a regular file/);
});

test('a logs folder swapped for a link to a folder holding a secret gives a note, not the secret', async () => {
  const elsewhere = join(host, 'elsewhere');
  await mkdir(elsewhere);
  await writeFile(join(elsewhere, 'modules.log'), SECRET);
  await rename(node('logs'), join(host, 'old-logs'));
  await symlink(elsewhere, node('logs'));
  const text = await driver.logs('web', { lines: 100 });
  assert.not.match(text, SECRET);
  assert.match(text, /logs\/modules\.log not shown: logs is a symbolic link, not a directory/);
});

test('a huge module log: its last lines are served from its last 256 KiB', async () => {
  await writeFile(node('logs/modules.log'), '');
  await truncate(node('logs/modules.log'), 8 * 1024 ** 3);
  await appendFile(node('logs/modules.log'), 'almost the end\nthe end\n');
  const text = await driver.logs('web', { lines: 2 });
  assert.is(text, '== modules ==\nalmost the end\nthe end');
});

test('control characters a node prints (terminal escapes, NULs) are dropped; tabs and text stay', async () => {
  await writeFile(node('console.log'), 'red \u001b[31mtext\u001b[0m\ttab\u0000\u0007\r\n\u009b2Jcleared?\n');
  assert.is(await driver.logs('web', { lines: 10 }), '== init ==\nred [31mtext[0m\ttab\n2Jcleared?');
});

test('an unknown or invalid node name is refused before any path is made from it', async () => {
  let caught: unknown;
  await driver.logs('nope', { lines: 1 }).catch((e) => {
    caught = e;
  });
  assert.match(String(caught), /does not exist/);
  await driver.logs('..', { lines: 1 }).catch((e) => {
    caught = e;
  });
  assert.match(String(caught), /invalid node name/);
});

test.run();
