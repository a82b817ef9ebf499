// Importing offline bundles with the real tar: a bundle is checked and kept; a file that is not one
// (not a tar, a tar of something else, a snap that is only named like one) gives a clear error and
// leaves nothing behind. The bundle's files are doubles with the heads of real ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../../agent/exec.ts';
import { BundleStore } from '../../../../agent/orchestrator/bundles/bundle-store.ts';
import { RUN_PREFIX } from '../../../helpers/run-prefix.ts';

let root = '';
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-bundles-`));
});
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A tar of `files` (name -> content) made with tar, as a person would on a connected machine. */
async function tarOf(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(root, `${name}-src`);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  const tar = join(root, `${name}.tar`);
  await exec(['tar', '-cf', tar, '-C', dir, ...Object.keys(files)]);
  return tar;
}

const stateDir = () => join(root, 'state');
const leftovers = async () => (await readdir(join(stateDir(), 'orchestrator', 'bundles')).catch(() => [])).filter((n) => n.startsWith('.'));

test('a MicroK8s bundle is checked and kept, and listed; a second import of it is refused', async () => {
  const store = new BundleStore(stateDir(), exec);
  const tar = await tarOf('mk8s', {
    'microk8s_6364.snap': Buffer.concat([Buffer.from('hsqs'), Buffer.alloc(1000)]),
    'microk8s_6364.assert': 'type: account-key\nauthority-id: canonical\n',
    'core20_2182.snap': Buffer.concat([Buffer.from('hsqs'), Buffer.alloc(500)]),
    'core20_2182.assert': 'type: snap-declaration\n',
    'README.txt': 'made with snap download',
  });
  const stored = await store.import(tar);
  assert.equal([stored.kind, stored.version, stored.files.length, stored.bytes > 1500], ['microk8s', '6364', 4, true]);
  assert.equal(
    (await store.list()).map((b) => `${b.kind}-${b.version}`),
    ['microk8s-6364'],
  );
  try {
    await store.import(tar);
    assert.unreachable('imported twice');
  } catch (error) {
    assert.match((error as Error).message, /imported already/);
  }
  assert.equal(await leftovers(), []);
});

test('not a bundle: a clear error naming what is wrong, nothing kept', async () => {
  const store = new BundleStore(join(root, 'state2'), exec);
  const notTar = join(root, 'photo.jpg');
  await writeFile(notTar, 'not a tar at all');
  const cases: [string, RegExp][] = [
    [notTar, /is not a tar archive/],
    [await tarOf('other', { 'holiday.jpg': 'x' }), /not a MicroK8s or K3s bundle: it holds holiday.jpg/],
    [await tarOf('fake', { 'microk8s_1.snap': 'text', 'microk8s_1.assert': 'type: x\n' }), /microk8s_1.snap is not a snap/],
    [join(root, 'missing.tar'), /no file/],
  ];
  for (const [file, why] of cases) {
    try {
      await store.import(file);
      assert.unreachable(`${file} was imported`);
    } catch (error) {
      assert.match((error as Error).message, why);
      assert.ok(['NOT_A_BUNDLE', 'BUNDLE_FILE_NOT_FOUND'].includes((error as { code?: string }).code ?? ''), (error as { code?: string }).code);
    }
  }
  assert.equal(await store.list(), []);
  assert.equal(await readdir(join(root, 'state2', 'orchestrator', 'bundles')).catch(() => []), [], 'no staging directory left');
});

test.run();
