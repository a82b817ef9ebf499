// The update lock on a real file: exclusive create, shared by overlapping operations, refused
// while someone else (the supervisor) holds it, stale locks of dead agents removed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, writeFile, access, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateLock } from '../../../../agent/fleet/update-lock.ts';
import { ConflictError } from '../../../../agent/errors.ts';

let dir: string;
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-lock-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('held while the operation runs, gone after', async () => {
  const path = join(dir, 'balena', 'updates.lock');
  const lock = new UpdateLock(path, 'me');
  const seen = await lock.withUpdateLock(async () => ({
    exists: await exists(path),
    held: lock.held,
    body: JSON.parse(await readFile(path, 'utf8')),
  }));
  assert.equal(seen.exists, true);
  assert.equal(seen.held, true);
  assert.equal(seen.body.holder, 'station-agent');
  assert.equal(seen.body.instance, 'me');
  assert.equal(await exists(path), false);
  assert.equal(lock.held, false);
});

test('overlapping operations share one file, removed by the last', async () => {
  const path = join(dir, 'updates.lock');
  const lock = new UpdateLock(path, 'me');
  let release!: () => void;
  const first = lock.withUpdateLock(
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
  );
  await new Promise((r) => setTimeout(r, 10));
  await lock.withUpdateLock(async () => undefined);
  assert.equal(await exists(path), true, 'still held by the first');
  release();
  await first;
  assert.equal(await exists(path), false);
});

test('refused while the supervisor holds it; the operation does not run; the file is untouched', async () => {
  const path = join(dir, 'updates.lock');
  await writeFile(path, '');
  const lock = new UpdateLock(path, 'me');
  let ran = false;
  const error = await lock
    .withUpdateLock(async () => {
      ran = true;
    })
    .catch((e: unknown) => e);
  assert.instance(error, ConflictError);
  assert.equal((error as ConflictError).code, 'UPDATE_IN_PROGRESS');
  assert.equal(ran, false);
  assert.equal(await exists(path), true);
  assert.equal(lock.held, false);
});

test('the lock is released when the operation fails', async () => {
  const path = join(dir, 'updates.lock');
  const lock = new UpdateLock(path, 'me');
  await lock
    .withUpdateLock(async () => {
      throw new Error('boom');
    })
    .catch(() => undefined);
  assert.equal(await exists(path), false);
});

test("a stale lock of a dead agent is removed; a live agent's or the supervisor's is kept", async () => {
  const path = join(dir, 'updates.lock');
  const lock = new UpdateLock(path, 'me');
  await writeFile(path, JSON.stringify({ holder: 'station-agent', instance: 'old', pid: 1, since: '' }));
  assert.equal(await lock.removeStale((i) => i === 'old'), false);
  assert.equal(await exists(path), true);
  assert.equal(await lock.removeStale(() => false), true);
  assert.equal(await exists(path), false);
  await writeFile(path, '');
  assert.equal(await lock.removeStale(() => false), false, "an empty lockfile is the supervisor's");
  assert.equal(await exists(path), true);
});

test.run();
