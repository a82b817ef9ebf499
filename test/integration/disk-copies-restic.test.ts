// The copies' restic layer on the real engines: restic 0.14 against `rclone serve restic
// --append-only --private-repos` in a network namespace this test makes (198.18.x on its lo),
// playing a peer's store. Everything (namespace, rclone, temp dir) is removed even when a test fails.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { exec } from '../../agent/exec.ts';
import { CopyError, Restic, type Repository } from '../../agent/disk/copies/restic.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { serveRestic } from '../helpers/restic-server.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const ADDR = '198.18.13.9';
const PORT = 8719;
let dir: string;
let ns: Netns;
let restic: Restic;
let stopServer: () => Promise<void>;
const grant = 'grant-pass-Zq9';

const repo = (path: string, password = grant): Repository => ({ url: `rest:http://s1:${password}@${ADDR}:${PORT}/s1/${path}/`, label: `peer/${path}` });

async function startServer(): Promise<void> {
  stopServer = await serveRestic(ns.name, `${ADDR}:${PORT}`, { htpasswd: join(dir, 'htpasswd'), store: join(dir, 'store') });
}

const captured = async (run: (to: PassThrough) => Promise<void>): Promise<string> => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => (text += c));
  await run(out);
  return text;
};

async function failure(promise: Promise<unknown>): Promise<CopyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CopyError) return error;
    throw error;
  }
  throw new Error('expected a CopyError');
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-copies-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  ns = await createNetns('cp');
  await ns.run(['ip', 'addr', 'add', `${ADDR}/32`, 'dev', 'lo']);
  mkdirSync(join(dir, 'store'));
  const line = (await exec(['openssl', 'passwd', '-apr1', '-stdin'], { input: grant, secrets: [grant] })).stdout.trim();
  writeFileSync(join(dir, 'htpasswd'), `s1:${line}\n`);
  writeFileSync(join(dir, 'key'), 'owner-key-7fa1', { mode: 0o600 });
  mkdirSync(join(dir, 'stable', 'volumes', 'data'), { recursive: true });
  writeFileSync(join(dir, 'stable', 'spec.json'), '{"name":"web"}');
  writeFileSync(join(dir, 'stable', 'volumes', 'data', 'note.txt'), 'hello from web\n');
  restic = new Restic({ run: exec, passwordFile: join(dir, 'key'), cacheDir: join(dir, 'cache'), netns: ns.name, stallSeconds: 8 });
  await startServer();
});
test.after(cleanupAll);

test('init, backup from the stable path, list, dump one file and restore the whole node', async () => {
  await restic.init(repo('web'));
  const first = await restic.backup(repo('web'), join(dir, 'stable'), 's1', ['node=web']);
  assert.match(first.snapshotId, /^[0-9a-f]{8}$/);
  writeFileSync(join(dir, 'stable', 'volumes', 'data', 'note.txt'), 'hello again\n');
  const second = await restic.backup(repo('web'), join(dir, 'stable'), 's1', ['node=web']);
  assert.is(second.filesChanged, 1, 'the stable path lets restic see only the changed file');
  const list = await restic.snapshots(repo('web'), { tag: 'node=web' });
  assert.equal(
    list.map((s) => s.shortId),
    [first.snapshotId, second.snapshotId],
  );
  assert.is(await captured((to) => restic.dump(repo('web'), first.snapshotId, '/volumes/data/note.txt', to)), 'hello from web\n');
  const target = join(dir, 'restored');
  await restic.restore(repo('web'), second.snapshotId, target);
  assert.equal(readdirSync(target).sort(), ['spec.json', 'volumes']);
  assert.is(readFileSync(join(target, 'volumes', 'data', 'note.txt'), 'utf8'), 'hello again\n');
  assert.ok((await restic.bytesHeld(repo('web'))) > 0);
  assert.equal(await restic.check(repo('web'), '100%'), { ok: true, problem: null });
});

test('a copy made from another shares its chunker and gets every snapshot once', async () => {
  await restic.init(repo('web-b'), repo('web'));
  assert.is((await restic.copy(repo('web'), repo('web-b'))).length, 2);
  assert.equal(await restic.copy(repo('web'), repo('web-b')), [], 'copy again: nothing new');
  const copied = await restic.snapshots(repo('web-b'));
  assert.ok(copied.every((s) => s.original !== null));
});

test('init over an existing repository is refused and overwrites nothing', async () => {
  const before = readFileSync(join(dir, 'store', 's1', 'web', 'config'));
  const e = await failure(restic.init(repo('web')));
  assert.is(e.code, 'COPY_REPOSITORY_EXISTS');
  assert.equal(readFileSync(join(dir, 'store', 's1', 'web', 'config')), before);
  assert.is((await restic.snapshots(repo('web'))).length, 2);
});

test('a wrong key, an empty location, a refused path and a bad grant each fail clearly; no secret in the message', async () => {
  const other = new Restic({ run: exec, passwordFile: join(dir, 'wrong-key'), cacheDir: join(dir, 'cache'), netns: ns.name });
  writeFileSync(join(dir, 'wrong-key'), 'not-the-owner', { mode: 0o600 });
  const wrong = await failure(other.snapshots(repo('web')));
  assert.is(wrong.code, 'COPY_WRONG_KEY');
  assert.is((await failure(restic.snapshots(repo('nothing-here')))).code, 'COPY_NOT_A_REPOSITORY');
  const forbidden = await failure(restic.init({ url: `rest:http://s1:${grant}@${ADDR}:${PORT}/s2/web/`, label: 'peer/s2-web' }));
  assert.is(forbidden.code, 'COPY_PEER_FORBIDDEN');
  const badGrant = await failure(restic.snapshots(repo('web', 'guessed')));
  assert.is(badGrant.code, 'COPY_PEER_UNAUTHORIZED');
  for (const e of [wrong, forbidden, badGrant]) {
    assert.not.match(e.message, grant);
    assert.not.match(e.message, 'guessed');
    assert.not.match(e.message, 'owner-key');
  }
});

test('a peer lost mid-backup stops restic within the stall bound, counts no snapshot, and the next run succeeds', async () => {
  // 24 MB of noise sent at 2 MB/s: the server is gone long before the upload ends
  writeFileSync(join(dir, 'stable', 'volumes', 'data', 'big.bin'), randomBytes(24_000_000));
  const before = (await restic.snapshots(repo('web'))).length;
  const slow = new Restic({
    run: (argv, o) => exec([...argv.slice(0, 1), '--limit-upload', '2000', ...argv.slice(1)], o),
    passwordFile: join(dir, 'key'),
    cacheDir: join(dir, 'cache'),
    netns: ns.name,
    stallSeconds: 8,
  });
  const running = failure(slow.backup(repo('web'), join(dir, 'stable'), 's1', ['node=web']));
  await new Promise((r) => setTimeout(r, 3000));
  const lostAt = Date.now();
  await stopServer();
  const e = await running;
  const took = (Date.now() - lostAt) / 1000;
  console.log(`  peer lost mid-backup: restic stopped ${took.toFixed(1)} s after the peer went`);
  assert.is(e.code, 'COPY_PEER_UNREACHABLE');
  assert.ok(took < 60, `stopped ${took.toFixed(1)} s after the peer went (restic alone retries ~150 s)`);
  const unreachable = await failure(restic.snapshots(repo('web')));
  assert.is(unreachable.code, 'COPY_PEER_UNREACHABLE', 'a peer that is down is unreachable at once');
  await startServer();
  assert.is((await restic.snapshots(repo('web'))).length, before, 'no snapshot from the cut-off backup');
  await restic.unlock(repo('web'));
  assert.equal(readdirSync(join(dir, 'store', 's1', 'web', 'locks')), [], 'the stale lock is gone');
  await restic.backup(repo('web'), join(dir, 'stable'), 's1', ['node=web']);
  assert.is((await restic.snapshots(repo('web'))).length, before + 1);
  assert.ok((await restic.check(repo('web'), '1/5')).ok);
});

test('restic is never given the grant or the key on its command line', async () => {
  const seen: string[][] = [];
  const spy = new Restic({
    run: (argv, o) => {
      seen.push([...argv]);
      return exec(argv, o);
    },
    passwordFile: join(dir, 'key'),
    cacheDir: join(dir, 'cache'),
    netns: ns.name,
  });
  await spy.snapshots(repo('web'));
  assert.ok(seen.length === 1 && !seen[0]!.join(' ').includes(grant) && !seen[0]!.join(' ').includes('owner-key'));
});

test.run();
