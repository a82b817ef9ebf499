// The stable path on the real kernel: a node's volume snapshots bind-mounted read-only at the same
// path for a backup, unmounted afterwards even when the backup fails, and leftovers from a killed
// agent unmounted before the next one. Plain directories stand in for btrfs snapshots here (a bind
// mount does not care); everything is under a per-run temp dir, unmounted and removed at the end.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { StablePaths, mountsUnder } from '../../agent/disk/copies/stable-path.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

let dir: string;
let stable: StablePaths;
const mounted = () => mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), stable.root);

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-stable-`));
  stable = new StablePaths({ run: exec, stateDir: join(dir, 'state') });
  onCleanup(`dir ${dir}`, async () => {
    await stable.unmountAll();
    await exec(['rm', '-rf', '--one-file-system', dir]);
  });
  for (const s of ['s1', 's2']) {
    mkdirSync(join(dir, 'snaps', s), { recursive: true });
    writeFileSync(join(dir, 'snaps', s, 'file'), `from ${s}`);
  }
});
test.after(cleanupAll);

test('each snapshot appears read-only at the same path beside the spec, and is gone afterwards', async () => {
  const seen: string[] = [];
  for (const s of ['s1', 's2']) {
    await stable.with('web', { name: 'web' }, [{ volume: 'data', source: join(dir, 'snaps', s) }], async (at) => {
      assert.is(at, join(dir, 'state', 'disk', 'stable', 'web'));
      seen.push(readFileSync(join(at, 'volumes', 'data', 'file'), 'utf8'));
      assert.equal(JSON.parse(readFileSync(join(at, 'spec.json'), 'utf8')), { name: 'web' });
      assert.throws(() => writeFileSync(join(at, 'volumes', 'data', 'new'), 'x'), /EROFS|read-only/i);
    });
  }
  assert.equal(seen, ['from s1', 'from s2']);
  assert.equal(mounted(), []);
  assert.equal(readdirSync(join(dir, 'snaps', 's1')), ['file'], 'the source is untouched');
});

test('a failing backup still unmounts; a dropped volume leaves no mount point', async () => {
  await stable
    .with(
      'web',
      {},
      [
        { volume: 'data', source: join(dir, 'snaps', 's1') },
        { volume: 'logs', source: join(dir, 'snaps', 's2') },
      ],
      async () => {
        assert.is(mounted().length, 2);
        throw new Error('backup failed');
      },
    )
    .catch((e: Error) => assert.is(e.message, 'backup failed'));
  assert.equal(mounted(), []);
  await stable.with('web', {}, [{ volume: 'data', source: join(dir, 'snaps', 's1') }], async (at) => {
    assert.equal(readdirSync(join(at, 'volumes')), ['data']);
  });
});

test('mounts left by a killed agent are unmounted before the next backup', async () => {
  const left = join(stable.dir('web'), 'volumes', 'data');
  await exec(['mount', '--bind', '-o', 'ro', join(dir, 'snaps', 's2'), left]);
  assert.is(mounted().length, 1);
  await stable.with('web', {}, [{ volume: 'data', source: join(dir, 'snaps', 's1') }], async (at) => {
    assert.is(readFileSync(join(at, 'volumes', 'data', 'file'), 'utf8'), 'from s1');
    assert.is(mounted().length, 1, 'one mount, not two stacked');
  });
  assert.equal(mounted(), []);
});

test('bad names change nothing', async () => {
  await stable
    .with('../x', {}, [], async () => undefined)
    .then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /DNS label/),
    );
  await stable
    .with('web', {}, [{ volume: '../../etc', source: '/' }], async () => undefined)
    .then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /DNS label/),
    );
  assert.equal(mounted(), []);
});

test.run();
