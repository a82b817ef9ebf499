// Template builds into a cache: the busybox template is built (for real, with lxc-create) into a
// fresh temporary cache with progress lines and a fixed rcS; a second ensureTemplate is a no-op;
// an interrupted build (a staging directory left behind) is never taken for a cached template;
// two concurrent ensureTemplate calls build once. The debian template is built once per machine
// into the shared cache by the other tests (mmdebstrap, about 30 s here).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { isCached, readManifest } from '../../agent/nodes/templates/cache.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

let cache: string;
let driver: LxcDriver;

test.before(async () => {
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-tpl-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  cache = join(dir, 'templates');
  // no container is made here: lxc-create only writes a root filesystem, no namespace needed
  driver = new LxcDriver({ lxcPath: join(dir, 'lxc'), templateCache: cache, run: exec, log: pino({ level: 'silent' }) });
});
test.after(async () => {
  await cleanupAll();
});

test('a staging directory left by an interrupted build is not a cached template', async () => {
  await mkdir(join(cache, '.busybox.building', 'rootfs'), { recursive: true });
  await mkdir(join(cache, 'busybox', 'rootfs'), { recursive: true }); // no manifest: never finished
  assert.equal(await isCached(cache, 'busybox'), false);
});

test('busybox builds once into the cache, with progress, rcS fixed; concurrent callers share the build', async () => {
  const progress: string[] = [];
  const t0 = Date.now();
  await Promise.all([driver.ensureTemplate('busybox', (l) => progress.push(l)), driver.ensureTemplate('busybox')]);
  console.log(`busybox template built in ${Date.now() - t0} ms`);
  assert.ok(progress.some((l) => /building/.test(l)) && progress.some((l) => /built in/.test(l)), progress.join('\n'));
  assert.equal(progress.filter((l) => /lxc-create/.test(l)).length, 1, 'built once');
  assert.equal(await isCached(cache, 'busybox'), true);
  assert.equal((await readManifest(cache, 'busybox'))?.template, 'busybox');
  const rcS = await readFile(join(cache, 'busybox/rootfs/etc/init.d/rcS'), 'utf8');
  assert.not.match(rcS, /^\/bin\/udhcpc/m);
  assert.equal(
    (await readdir(cache)).filter((n) => n.startsWith('.')),
    [],
    'no staging directory or lock left',
  );
  const again: string[] = [];
  await driver.ensureTemplate('busybox', (l) => again.push(l));
  assert.equal(again, [], 'a cached template is not rebuilt');
});

test('a lock held by a dead process does not block the build', async () => {
  await writeFile(join(cache, '.debian.lock'), '999999999');
  const { withTemplateLock } = await import('../../agent/nodes/templates/cache.ts');
  const value = await withTemplateLock(cache, 'debian', async () => 'ran', 2_000);
  assert.equal(value, 'ran');
});

test.run();
