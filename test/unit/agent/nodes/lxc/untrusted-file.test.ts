// Reading node-written files on real files in a temp dir: whatever a node (root inside, owner of
// its logs folder) puts in place of its log, the reader returns at most the last bytes of a plain
// file, never a host file behind a link, and never blocks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { link, mkdir, rename, symlink, truncate, writeFile, appendFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { readUntrustedTail, UNTRUSTED_TAIL_BYTES, type UntrustedRead } from '../../../../../agent/nodes/lxc/untrusted-file.ts';
import { removeTempDirs, tempDir } from '../../../../helpers/temp-dirs.ts';

const SECRET = 'the-admin-token-0123456789';
let host: string;
let nodeDir: string;

test.before.each(async () => {
  host = tempDir('untrusted-');
  nodeDir = join(host, 'node');
  await mkdir(join(nodeDir, 'logs'), { recursive: true });
  await writeFile(join(host, 'admin-token'), SECRET, { mode: 0o600 });
});
test.after(removeTempDirs);

const read = (relative = 'logs/modules.log', max?: number) => readUntrustedTail(nodeDir, relative, max);
const text = (r: UntrustedRead) => (r.kind === 'read' ? r.data.toString('utf8') : '');
function assertRefused(r: UntrustedRead, reason: RegExp): void {
  assert.is(r.kind, 'refused', JSON.stringify(r));
  assert.match((r as { reason: string }).reason, reason);
  assert.not.match(JSON.stringify(r), SECRET);
}

test('a plain log is read whole; a missing one is missing', async () => {
  await writeFile(join(nodeDir, 'logs/modules.log'), 'one\ntwo\n');
  const r = await read();
  assert.equal(r.kind === 'read' && r.skipped, 0);
  assert.is(text(r), 'one\ntwo\n');
  assert.equal(await read('logs/other.log'), { kind: 'missing' });
  assert.equal(await readUntrustedTail(join(host, 'no-such-node'), 'console.log'), { kind: 'missing' });
});

test('a symbolic link to a host secret is refused, not followed', async () => {
  await symlink(join(host, 'admin-token'), join(nodeDir, 'logs/modules.log'));
  assertRefused(await read(), /modules\.log is a symbolic link, not a regular file/);
  // a relative link climbing out of the folder is no different
  await symlink('../../admin-token', join(nodeDir, 'logs/relative.log'));
  assertRefused(await read('logs/relative.log'), /symbolic link/);
});

test('a symbolic link to /dev/zero is refused (no endless read)', async () => {
  await symlink('/dev/zero', join(nodeDir, 'logs/modules.log'));
  assertRefused(await read(), /symbolic link/);
});

test('a FIFO is refused at once, without blocking on its open', async () => {
  execFileSync('mkfifo', [join(nodeDir, 'logs/modules.log')]);
  // a blocking open of a FIFO without a writer never returns: this would time the suite out
  assertRefused(await read(), /modules\.log is a FIFO, not a regular file/);
});

test('a directory or a socket in place of the log is refused', async () => {
  await mkdir(join(nodeDir, 'logs/modules.log'));
  assertRefused(await read(), /is a directory, not a regular file/);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(nodeDir, 'logs/socket.log'), resolve));
  try {
    assertRefused(await read('logs/socket.log'), /is a socket, not a regular file/);
  } finally {
    server.close();
  }
});

test('a hard link to a host file is refused (a privileged node could make one)', async () => {
  await link(join(host, 'admin-token'), join(nodeDir, 'logs/modules.log'));
  assertRefused(await read(), /2 names \(a hard link\)/);
});

test('a huge sparse log: only the last bytes are read, and they are the end of the file', async () => {
  const file = join(nodeDir, 'logs/modules.log');
  await writeFile(file, '');
  await truncate(file, 64 * 1024 ** 3); // 64 GiB of nothing
  await appendFile(file, 'the last line\n');
  const r = await read();
  assert.is(r.kind, 'read');
  const data = (r as { data: Buffer; skipped: number }).data;
  assert.is(data.length, UNTRUSTED_TAIL_BYTES);
  assert.is((r as { skipped: number }).skipped, 64 * 1024 ** 3 + 14 - UNTRUSTED_TAIL_BYTES);
  assert.ok(data.toString('utf8').endsWith('the last line\n'));
});

test("the byte cap is the caller's to lower", async () => {
  await writeFile(join(nodeDir, 'logs/modules.log'), 'abcdefghij');
  const r = await read('logs/modules.log', 4);
  assert.is(text(r), 'ghij');
  assert.is((r as { skipped: number }).skipped, 6);
});

test('a logs folder replaced by a symbolic link cannot redirect the read', async () => {
  const elsewhere = join(host, 'elsewhere');
  await mkdir(elsewhere);
  await writeFile(join(elsewhere, 'modules.log'), SECRET);
  await rename(join(nodeDir, 'logs'), join(host, 'old-logs'));
  await symlink(elsewhere, join(nodeDir, 'logs'));
  assertRefused(await read(), /logs is a symbolic link, not a directory/);
});

test("the trusted directory itself may be reached through a link (it is the agent's own)", async () => {
  await writeFile(join(nodeDir, 'console.log'), 'booted\n');
  await symlink(nodeDir, join(host, 'alias'));
  assert.is(text(await readUntrustedTail(join(host, 'alias'), 'console.log')), 'booted\n');
});

test('paths that could climb out are a programming error', async () => {
  for (const bad of ['../admin-token', 'logs/../../admin-token', '/etc/passwd', 'logs//x', './x']) {
    let threw = false;
    await readUntrustedTail(nodeDir, bad).catch(() => {
      threw = true;
    });
    assert.ok(threw, bad);
  }
});

test.run();
