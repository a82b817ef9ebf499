// On btrfs (a loop-mounted file system made by the test), the debian template's rootfs is a
// subvolume and nodes that need a full clone (nesting, microk8s) get a snapshot of it instead of a
// copy; destroy removes the snapshot. The template is seeded into the btrfs cache from the shared
// cache (a copy into a subvolume, as the debian builder makes it there).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, copyFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { isBtrfsSubvolume } from '../../agent/storage/btrfs-fs.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { gone, lxcHarness, TEMPLATE_CACHE, type LxcHarness } from '../fixtures/lxc/harness.ts';

let h: LxcHarness;
let driver: LxcDriver;
let mnt: string;

test.before(async () => {
  h = await lxcHarness('lxf', 51);
  await h.driver.ensureTemplate('debian');
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-btrfs-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  const image = join(dir, 'fs.img');
  mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await exec(['truncate', '-s', '2G', image]);
  await exec(['mkfs.btrfs', '-q', image]);
  const loop = (await exec(['losetup', '-f', '--show', image])).stdout.trim();
  onCleanup(`loop ${loop}`, () => exec(['losetup', '-d', loop], { allowFailure: true }));
  await exec(['mount', loop, mnt]);
  onCleanup(`mount ${mnt}`, () => exec(['umount', mnt], { allowFailure: true }));
  const cache = join(mnt, 'templates');
  await mkdir(join(cache, 'debian'), { recursive: true });
  await exec(['btrfs', 'subvolume', 'create', join(cache, 'debian/rootfs')]);
  await exec(['cp', '-a', `${TEMPLATE_CACHE}/debian/rootfs/.`, join(cache, 'debian/rootfs/')], { timeoutMs: 300_000 });
  await copyFile(join(TEMPLATE_CACHE, 'debian/template.json'), join(cache, 'debian/template.json'));
  const lxcPath = join(mnt, 'lxc');
  await mkdir(lxcPath);
  const run = netnsRunner(h.ns.name);
  onCleanup(`nodes in ${lxcPath}`, async () => {
    for (const n of await driver.list().catch(() => [])) await driver.destroy(n.name).catch(() => {});
  });
  driver = new LxcDriver({ lxcPath, templateCache: cache, run, hostRun: exec, log: pino({ level: 'silent' }) });
});
test.after(async () => {
  await cleanupAll();
});

test('a nesting node on btrfs is a snapshot of the template subvolume, and destroy removes it', async () => {
  const build = h.build('snap', 10, { template: 'debian', profile: 'nesting' });
  const progress: string[] = [];
  await driver.create(build, (l) => progress.push(l));
  const line = progress.find((l) => /clone of debian/.test(l));
  console.log(`  ${line}`);
  assert.match(line ?? '', /btrfs-snapshot clone/);
  const rootfs = join(driver.lxcPath, build.name, 'rootfs');
  assert.ok(await isBtrfsSubvolume(rootfs));
  assert.match((await exec(['btrfs', 'subvolume', 'list', mnt])).stdout, new RegExp(`lxc/${build.name}/rootfs`));
  assert.match(await readFile(join(driver.lxcPath, build.name, 'config'), 'utf8'), /cgroup:rw:force/);
  await driver.start(build.name);
  assert.equal((await driver.exec(build.name, ['cat', '/etc/hostname'])).stdout.trim(), build.name);
  await driver.destroy(build.name);
  assert.ok(await gone(join(driver.lxcPath, build.name)));
  assert.not.match((await exec(['btrfs', 'subvolume', 'list', mnt])).stdout, new RegExp(build.name));
});

test.run();
