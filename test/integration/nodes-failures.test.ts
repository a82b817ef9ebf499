// The node service when a change fails for real, on real LXC (in a test network namespace) with the
// node volumes and the lxcpath on a real loop-backed btrfs pool (the btrfs storage driver):
// - a PATCH whose new build fails (a Debian package that does not exist) is rolled back: the node's
//   spec, its running container (built from the old spec), its volume data and address are as before;
// - a node that cannot be rebuilt because the pool is full is retried with growing pauses (the
//   reconcile loop honours each pause), its error says why, the subsystem is degraded, and once
//   space is freed the next retry brings it back with its data.
// Waits are on the engines' own signals (node.error and node.state events, exec answers), not sleeps.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { EventBus, type StationEvent } from '../../agent/events.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import type { NodeRetry } from '../../agent/nodes/retries.ts';
import type { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import { StationError } from '../../agent/errors.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { poolNodes } from '../helpers/pool-nodes.ts';
import { waitFor } from '../helpers/wait.ts';
import { rejectsWith } from '../helpers/rejects.ts';
import type { LoopPool } from '../../agent/storage/pool.ts';

const MiB = 1024 * 1024;
// a debian node asks for 512 MiB free beside the 512 MiB the station keeps (nodes/capacity.ts)
const POOL_MB = 1280;
const SUBNET = '198.18.61';
const RECONCILE_SECONDS = 1; // the retry pause starts at half of it: 500 ms, 1 s, 2 s, 4 s ...
const BASE_MS = RECONCILE_SECONDS * 500;

let ns: Netns;
let dir: string;
let pool: LoopPool;
let lxcPath: string;
let events: EventBus;
let nodes: NodesSubsystem;
const web = runName('web');
const marker = `served from the volume ${RUN_PREFIX}`;

function startNodes(): Promise<void> {
  nodes = poolNodes({ stateDir: dir, netns: ns.name, pool, poolMb: POOL_MB, subnet: SUBNET, reconcileSeconds: RECONCILE_SECONDS, events });
  return nodes.start();
}

/** What the node reads from its volume (empty while it cannot answer). */
async function readMarker(): Promise<string | null> {
  const result = await nodes
    .actions()
    .exec(web, ['cat', '/data/marker'])
    .catch(() => null);
  return result?.exitCode === 0 ? result.stdout.trim() : null;
}
const lxc = (argv: string[]) => netnsRunner(ns.name)([argv[0]!, '-P', lxcPath, ...argv.slice(1)], { allowFailure: true, timeoutMs: 60_000 });

const rejection = (promise: Promise<unknown>) => rejectsWith(promise, StationError);

/** Fills the pool until a write fails with ENOSPC: what statfs shows as free at once (fallocate
 * writes nothing), then blocks, then small files for the crumbs. */
async function fillPool(where: string): Promise<void> {
  const fs = await statfs(where);
  await exec(['fallocate', '-l', String(fs.bavail * fs.bsize - 8 * MiB), join(where, 'fill0')], { timeoutMs: 120_000 });
  const dd = await exec(['dd', 'if=/dev/zero', `of=${join(where, 'fill')}`, 'bs=64K', 'status=none'], {
    allowFailure: true,
    timeoutMs: 120_000,
  });
  assert.match(dd.stderr, /No space left on device/, dd.stderr);
  const crumbs = 'i=0; while [ $i -lt 2000 ] && echo crumbs > "$1/crumb$i" 2>/dev/null; do i=$((i+1)); done';
  await exec(['sh', '-c', crumbs, 'fill', where], { timeoutMs: 120_000 });
  await exec(['btrfs', 'filesystem', 'sync', where]);
}

const t = suite('node changes that fail');

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-nodefail-`));
  onCleanup(`dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
  // the pool the btrfs driver makes for a state directory not on btrfs, made here first so the
  // cleanup knows it (the subsystem then finds it mounted and uses it as it is)
  pool = testPool(join(dir, 'storage'), 'pool', POOL_MB * MiB);
  await pool.ensure();
  lxcPath = join(pool.mountPoint, 'lxc');
  ns = await createNetns('nfl');
  onCleanup(`containers in ${lxcPath}`, async () => {
    for (const name of [web]) {
      await lxc(['lxc-stop', '-n', name, '-k']);
      await lxc(['lxc-destroy', '-n', name]);
    }
  });
  events = new EventBus();
  await startNodes();
  onCleanup('nodes subsystem', () => nodes.stop());
  assert.equal(nodes.health(), { state: 'ok' }, JSON.stringify(nodes.health()));
  assert.is(nodes.summary().storageDriver, 'btrfs');
});
t.after(async () => {
  await cleanupAll();
});

t('a PATCH whose build fails is rolled back: the same spec, running, built from the old spec, data and address kept', async () => {
  const service = nodes.actions();
  const modules = [{ name: 'keep', run: 'exec sleep infinity' }];
  await service.create({
    name: web,
    template: 'debian',
    volumes: [{ name: 'data', path: '/data' }],
    resources: { memoryMB: 256 },
    modules,
  });
  const volume = join(pool.mountPoint, 'volumes', web, 'data');
  assert.is((await exec(['stat', '-c', '%i', volume])).stdout.trim(), '256', 'the volume is a btrfs subvolume on the pool (inode 256)');
  assert.is(
    (
      await waitFor(
        'exec in the node',
        () =>
          nodes
            .actions()
            .exec(web, ['sh', '-c', `echo "${marker}" > /data/marker`])
            .catch(() => null),
        120_000,
      )
    ).exitCode,
    0,
  );
  assert.is(await readMarker(), marker);
  const before = await service.get(web, false);
  const buildBefore = await readFile(join(lxcPath, web, 'station-build.json'), 'utf8');
  const seen: StationEvent[] = [];
  const unsubscribe = events.subscribe((e) => seen.push(e));

  const error = await rejection(service.patch(web, { modules: [...modules, { name: 'tools', packages: ['station-no-such-package'] }] }));
  unsubscribe();
  // UNKNOWN_PACKAGE while the template's package lists are fresh (a day); apt's own error when they must be fetched and cannot be
  if (error.code === 'UNKNOWN_PACKAGE') assert.match(error.message, /station-no-such-package/);
  else assert.match(error.message, /apt-get/, `${error.code}: ${error.message}`);

  const after = await service.get(web, false);
  assert.equal(after.spec, before.spec, 'the spec is the one before the PATCH');
  assert.is(after.state, 'running');
  assert.is(after.address, before.address);
  assert.is(after.error, null, 'the roll-back succeeded: no failure is left on the node');
  assert.is(await readFile(join(lxcPath, web, 'station-build.json'), 'utf8'), buildBefore, 'the container is built from the old spec');
  assert.is(await waitFor('the node answering again', readMarker, 120_000), marker, 'the volume data is there');
  assert.equal(nodes.health(), { state: 'ok' });
  assert.ok(
    seen.some((e) => e.type === 'node.error'),
    'the failure was announced',
  );
  assert.not.ok(
    seen.some((e) => e.type === 'node.updated'),
    'no update was announced',
  );
});

t('a node that cannot be rebuilt on a full pool is retried with growing pauses, and comes back once there is space', async () => {
  // the agent stops; the node's container is lost; the pool fills up; the agent starts again
  await nodes.stop();
  await lxc(['lxc-stop', '-n', web, '-k']);
  assert.is((await lxc(['lxc-destroy', '-n', web])).exitCode, 0);
  const volume = join(pool.mountPoint, 'volumes', web, 'data');
  await fillPool(volume);

  const failures: { at: number; retry: NodeRetry }[] = [];
  let back = false;
  events.subscribe((e) => {
    if (e.type === 'node.error' && e.data.name === web) failures.push({ at: Date.now(), retry: nodes.actions().retryState(web)! });
    if (e.type === 'node.state' && e.data.name === web && e.data.state === 'running') back = true;
  });
  await startNodes();
  await waitFor('five failed rebuilds', async () => failures.length >= 5, 60_000);

  const view = await nodes.actions().get(web, false);
  assert.match(view.error ?? '', /No space left on device|ENOSPC/, String(view.error));
  const health = nodes.health();
  assert.is(health.state, 'degraded');
  assert.match(health.reason ?? '', new RegExp(`${web}: .*(No space left|ENOSPC)`));
  const five = failures.slice(0, 5).map((f) => f.retry);
  assert.equal(
    five.map((r) => r.failures),
    [1, 2, 3, 4, 5],
    'one failure per attempt, counted',
  );
  const pauses = five.map((r) => Date.parse(r.retryAt) - Date.parse(r.failedAt));
  assert.equal(pauses, [0, BASE_MS, 2 * BASE_MS, 4 * BASE_MS, 8 * BASE_MS], `pauses ${pauses.join(', ')} ms`);
  const apart = five.map((r, i) => (i ? Date.parse(r.failedAt) - Date.parse(five[i - 1]!.failedAt) : 0));
  for (let i = 1; i < five.length; i++) {
    const early = `attempt ${i + 1} came ${apart[i]} ms after attempt ${i}, before its pause of ${pauses[i - 1]} ms was over`;
    assert.ok(Date.parse(five[i]!.failedAt) >= Date.parse(five[i - 1]!.retryAt), early);
  }
  console.log(`retries on a full pool: attempts ${apart.join(', ')} ms apart; pauses ${pauses.join(', ')} ms`);

  // the owner frees space: the next retry rebuilds the node with its volume as it was
  await exec(['sh', '-c', 'rm -f "$1"/fill0 "$1"/fill "$1"/crumb*', 'free', volume]);
  await exec(['btrfs', 'filesystem', 'sync', volume]);
  await waitFor('the node running again (its node.state event)', async () => back, 180_000);
  assert.is(nodes.actions().retryState(web), null, 'the streak ended');
  const again = await nodes.actions().get(web, false);
  assert.is(again.error, null);
  assert.is(again.state, 'running');
  assert.is(await waitFor('the node answering again', readMarker, 120_000), marker, 'the volume data is there');
  await waitFor('the subsystem ok again', async () => nodes.health().state === 'ok');
});

t.run();
