// Volumes of real busybox nodes (LXC in a test namespace) on a real 256 MiB loop-backed btrfs pool
// (storage auto, the state directory and the lxcpath not on the pool):
// - a volume's sizeMB is its limit: a node writing past it gets EDQUOT at the limit, while df inside
//   shows the whole pool; the node created again with another sizeMB on its kept volume gets that limit;
// - on a station whose volumes are plain directories a sizeMB is refused (400), nothing made;
// - a node filling the pool gets ENOSPC; the other node and the agent keep working (its state is not
//   on the pool); the nodes subsystem is degraded naming the node and volume, and ok again once freed.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { EventBus } from '../../agent/events.ts';
import { StationError } from '../../agent/errors.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import type { LoopPool } from '../../agent/storage/pool.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { rejectsWith } from '../helpers/rejects.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';

const MiB = 1024 * 1024;
const POOL_MB = 256;
const log = pino({ level: 'silent' });
let ns: Netns;
let dir: string;
let pool: LoopPool;
let nodes: NodesSubsystem;
const capped = runName('cap');
const filler = runName('fill');
const other = runName('oth');
const plain = runName('plain');
const keep = [{ name: 'keep', run: 'exec sleep 100000' }];

function subsystem(stateDir: string, storageDriver: 'auto' | 'dir', octet: number): NodesSubsystem {
  const lxcPath = join(stateDir, 'lxc');
  onCleanup(`containers in ${lxcPath}`, async () => {
    for (const name of [capped, filler, other, plain]) {
      const lxc = netnsRunner(ns.name);
      await lxc(['lxc-stop', '-P', lxcPath, '-n', name, '-k'], { allowFailure: true, timeoutMs: 60_000 });
      await lxc(['lxc-destroy', '-P', lxcPath, '-n', name], { allowFailure: true, timeoutMs: 60_000 });
    }
  });
  const made = new NodesSubsystem({
    config: {
      stateDir,
      lxcPath,
      bridge: runName(`b${octet}`),
      nodeSubnet: `198.18.${octet}.0/24`,
      name: 'test',
      domain: 'mesh.internal',
      reconcileSeconds: 3600,
      storageDriver,
      storagePoolFile: join(stateDir, 'storage', 'pool.img'),
      storagePoolSizeMb: POOL_MB,
    },
    driver: new LxcDriver({ lxcPath, templateCache: TEMPLATE_CACHE, run: netnsRunner(ns.name), hostRun: exec, log }),
    events: new EventBus(),
    log,
  });
  onCleanup('nodes subsystem', () => made.stop());
  return made;
}

const run = (name: string, script: string) => nodes.actions().exec(name, ['sh', '-c', script]);

async function create(name: string, sizeMB?: number): Promise<void> {
  await nodes.actions().create({ name, template: 'busybox', volumes: [{ name: 'data', path: '/data', ...(sizeMB ? { sizeMB } : {}) }], modules: keep });
  await waitFor(`${name} answering`, async () => (await run(name, 'true').catch(() => null))?.exitCode === 0, 60_000);
}

const t = suite('node volumes on a pool');

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-stnodes-`));
  onCleanup(`dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
  ns = await createNetns('stn');
  // the pool storage auto makes where the state directory is not on btrfs, made first so cleanup knows it
  pool = testPool(join(dir, 'storage'), 'pool', POOL_MB * MiB);
  nodes = subsystem(dir, 'auto', 64);
  await nodes.start();
  assert.equal(nodes.health(), { state: 'ok' }, JSON.stringify(nodes.health()));
  assert.is(nodes.summary().storageDriver, 'btrfs');
  assert.ok((await pool.status()).mounted, 'auto made and mounted the pool');
});
t.after(async () => {
  await cleanupAll();
});

t('sizeMB is the limit: a write past it fails with EDQUOT at the limit; df inside shows the whole pool', async () => {
  await create(capped, 32);
  const usage = await nodes.volumePool()!.volumes([{ node: capped, volume: 'data' }]);
  assert.is(usage[0]!.quotaBytes, 32 * MiB);
  const dd = await run(capped, 'dd if=/dev/zero of=/data/fill bs=1M count=64 2>&1; sync; ls -l /data/fill');
  assert.match(dd.stdout, /Disk quota exceeded/, dd.stdout);
  const size = Number(/\s(\d+)\s+\w{3}\s+\d+\s+[\d:]+\s+\/data\/fill/.exec(dd.stdout)?.[1]);
  assert.ok(size > 28 * MiB && size <= 32 * MiB, `stopped at the limit: ${size} bytes`);
  const df = await run(capped, 'df -k /data | tail -1');
  const blocks = Number(df.stdout.trim().split(/\s+/)[1]);
  assert.ok(blocks * 1024 > 128 * MiB, `df shows the pool, not the limit: ${df.stdout}`);
  // the node created again with another size on its kept volume: the new limit, the data kept
  await nodes.actions().remove(capped, { volumes: false });
  await create(capped, 48);
  const again = await nodes.volumePool()!.volumes([{ node: capped, volume: 'data' }]);
  assert.is(again[0]!.quotaBytes, 48 * MiB);
  assert.ok(again[0]!.usedBytes! > 28 * MiB, 'the data written before is still there');
  const view = await nodes.actions().get(capped);
  assert.equal(view.volumeUsage, [{ name: 'data', usedBytes: again[0]!.usedBytes, quotaBytes: 48 * MiB }], 'GET /nodes/:name shows used and limit');
  const more = await run(capped, 'dd if=/dev/zero of=/data/more bs=1M count=64 2>&1; sync; ls -l /data/more');
  assert.match(more.stdout, /Disk quota exceeded/);
  await nodes.actions().remove(capped, { volumes: true });
});

t('on plain directories a sizeMB is refused with a 400 before anything is made', async () => {
  const plainDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-stplain-`));
  onCleanup(`dir ${plainDir}`, () => rm(plainDir, { recursive: true, force: true }));
  const onDir = subsystem(plainDir, 'dir', 65);
  await onDir.start();
  assert.is(onDir.summary().storageDriver, 'dir');
  const error = await rejectsWith(
    onDir.actions().create({ name: plain, template: 'busybox', volumes: [{ name: 'data', path: '/data', sizeMB: 64 }], modules: keep }),
    StationError,
  );
  assert.is(error.kind, 'invalid', 'HTTP 400');
  assert.is(error.code, 'VOLUME_SIZE_UNSUPPORTED');
  assert.match(error.message, /volumes\[data\]\.sizeMB: .*plain directories .*cannot enforce a size/);
  assert.equal(onDir.actions().list(), [], 'no node recorded');
  assert.not.ok(await stat(join(plainDir, 'volumes', plain)).catch(() => null), 'no volume made');
  assert.not.ok(await stat(join(plainDir, 'lxc', plain)).catch(() => null), 'no container made');
  await onDir.stop();
});

t('a node filling the pool gets ENOSPC; the other node and the agent keep working; status names who fills it', async () => {
  await create(other);
  await create(filler);
  assert.not.equal((await stat(dir)).dev, (await stat(pool.mountPoint)).dev, "the agent's state directory is not on the pool");
  const dd = await run(filler, 'dd if=/dev/zero of=/data/fill bs=1M 2>&1; sync');
  assert.match(dd.stdout, /No space left on device/, dd.stdout);
  await nodes.reconcileNow();
  const health = nodes.health();
  assert.is(health.state, 'degraded');
  assert.match(health.reason ?? '', new RegExp(`^volume pool full \\(\\d+\\.\\d MiB free of 256\\.0 MiB\\): node ${filler} volume data uses \\d+\\.\\d MiB`));
  console.log(`  ${health.reason}`);
  // the other node still runs and answers; writing to its volume fails like every write to the pool
  assert.is((await run(other, 'echo alive')).stdout, 'alive\n');
  const write = await run(other, 'echo x > /data/x 2>&1 || echo failed');
  assert.match(write.stdout, /No space left on device|failed|^$/);
  // the agent's own state is written as ever: a PATCH is stored
  const patched = await nodes.actions().patch(other, { labels: { room: 'attic' } });
  assert.equal(patched.spec.labels, { room: 'attic' });
  // space freed: ok again
  assert.is((await run(filler, 'rm /data/fill && sync')).exitCode, 0);
  await exec(['btrfs', 'filesystem', 'sync', pool.mountPoint]);
  await nodes.reconcileNow();
  assert.equal(nodes.health(), { state: 'ok' });
});

t.run();
