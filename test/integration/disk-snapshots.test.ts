// Snapshot sets on real engines: a busybox node on real LXC (in a test network namespace) with three
// volumes on a real loop-backed btrfs pool, its processes frozen through its real cgroup2 cgroup.
// The node runs a writer that puts the same counter into its three volumes, one after the other,
// each by an atomic rename: at any instant a >= b >= c >= a - 1. A set taken at one instant keeps
// that order in every snapshot; snapshots taken one after another while the writer runs would not.
// Also: sizes, single files (no escaping the snapshot), rollback refused while running and done
// when stopped, a set opened as a new volume, delete, a stopped node snapshotted without a freeze,
// a set a killed agent left half made removed at the next start, and the schedule with retention.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../agent/config/load.ts';
import { exec } from '../../agent/exec.ts';
import { EventBus, type StationEvent } from '../../agent/events.ts';
import { freeze, isFrozen, nodeCgroup, parseCgroupEvents, thaw } from '../../agent/disk/snapshots/freeze.ts';
import { SnapshotKeeper } from '../../agent/disk/snapshots/keeper.ts';
import { NodeSnapshots } from '../../agent/disk/snapshots/node-snapshots.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import type { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import type { LoopPool } from '../../agent/storage/pool.ts';
import { StationError } from '../../agent/errors.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { rejectsWith } from '../helpers/rejects.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { poolNodes } from '../helpers/pool-nodes.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const SUBNET = '198.18.63';
const VOLUMES = ['a', 'b', 'c'];
// writes i into a, then b, then c, each through a rename so a snapshot never sees half a write
const WRITER = 'i=0; while true; do i=$((i+1)); for v in a b c; do echo $i > /$v/n.t; mv /$v/n.t /$v/n; done; done';

let ns: Netns;
let dir: string;
let pool: LoopPool;
let nodes: NodesSubsystem;
let events: EventBus;
let keeper: SnapshotKeeper;
const seen: StationEvent[] = [];
const web = runName('snap');
const lxc = (argv: string[]) =>
  netnsRunner(ns.name)([argv[0]!, '-P', join(pool.mountPoint, 'lxc'), ...argv.slice(1)], { allowFailure: true, timeoutMs: 60_000 });
const volumePath = (v: string) => join(pool.mountPoint, 'volumes', web, v);
const snapshotPath = (v: string, name: string) => join(pool.mountPoint, 'volumes', '.snapshots', web, v, name);
const code = async (p: Promise<unknown>) => (await rejectsWith(p, StationError)).code;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const view = () => nodes.actions().get(web, false);

function diskDeps(retention?: ConstructorParameters<typeof SnapshotKeeper>[1]) {
  const config = loadConfig({ STATION_STATE_DIR: dir, STATION_NAME: 'test' });
  const deps = {
    config,
    run: exec,
    events,
    log: pino({ level: 'silent' }),
    nodes: { list: () => nodes.actions().list(), volumeDriver: () => nodes.volumeDriver() },
    // the snapshots part never asks the mesh (a double that says so if it did)
    mesh: {
      info: () => assert.unreachable('mesh'),
      peers: () => assert.unreachable('mesh'),
      identify: () => assert.unreachable('mesh'),
    } as never,
  };
  return new SnapshotKeeper(deps, retention);
}

const t = suite('snapshot sets');

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-snaps-`));
  onCleanup(`dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
  pool = testPool(join(dir, 'storage'), 'pool', 768 * MiB);
  await pool.ensure();
  ns = await createNetns('snp');
  onCleanup(`container ${web}`, async () => {
    await lxc(['lxc-stop', '-n', web, '-k']);
    await lxc(['lxc-destroy', '-n', web]);
  });
  events = new EventBus();
  events.subscribe((e) => {
    if (e.type.startsWith('disk.snapshot.')) seen.push(e);
  });
  nodes = poolNodes({ stateDir: dir, netns: ns.name, pool, poolMb: 768, subnet: SUBNET, reconcileSeconds: 5, events });
  await nodes.start();
  onCleanup('nodes subsystem', () => nodes.stop());
  await nodes.actions().create({
    name: web,
    template: 'busybox',
    resources: { memoryMB: 64 },
    volumes: VOLUMES.map((v) => ({ name: v, path: `/${v}` })),
    modules: [{ name: 'writer', run: WRITER }],
    disk: { snapshotSeconds: 0 },
  });
  await waitFor(
    'the writer has written c',
    () =>
      stat(join(volumePath('c'), 'n')).then(
        () => true,
        () => false,
      ),
    60_000,
  );
  keeper = diskDeps();
  await keeper.start();
  onCleanup('keeper', () => keeper.stop());
  assert.equal(keeper.health(), { state: 'ok' });
});
t.after(async () => {
  await cleanupAll();
});

t("the node's cgroup2 cgroup freezes it: cgroup.events says frozen 1, and thaw brings it back", async () => {
  const node = await view();
  const cgroup = await nodeCgroup(node.pid!);
  assert.is(cgroup.kind, 'v2');
  assert.match(cgroup.dir, new RegExp(`/lxc\\.payload\\.${web}$`));
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    times.push(await freeze(cgroup));
    assert.ok(parseCgroupEvents(await readFile(join(cgroup.dir, 'cgroup.events'), 'utf8')).frozen, 'the kernel says frozen');
    const before = await readFile(join(volumePath('c'), 'n'), 'utf8');
    assert.is(await readFile(join(volumePath('c'), 'n'), 'utf8'), before);
    await thaw(cgroup);
    assert.not.ok(await isFrozen(cgroup));
  }
  console.log(`  freeze until frozen 1: median ${median(times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms (n=5, writer running)`);
  assert.is((await nodes.actions().exec(web, ['true'])).exitCode, 0, 'the node runs again');
});

t('a set of a running node holds all three volumes at one instant, with sizes, and counts the freeze', async () => {
  const freezes: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < 7; i++) {
    const record = await keeper.snapshot(web);
    assert.equal(record.volumes, VOLUMES);
    assert.is(record.kind, 'manual');
    assert.ok(record.frozen, 'a running node with three volumes is frozen');
    freezes.push(record.freezeMs);
    totals.push(record.totalMs);
    const [a, b, c] = await Promise.all(VOLUMES.map(async (v) => Number(await readFile(join(snapshotPath(v, record.name), 'n'), 'utf8'))));
    assert.ok(a! >= b! && b! >= c! && c! >= a! - 1, `one instant: a=${a} b=${b} c=${c}`);
    // read-only
    const touch = await exec(['touch', join(snapshotPath('a', record.name), 'x')], { allowFailure: true });
    assert.match(touch.stderr, /Read-only file system/);
  }
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const frozenFigure = `frozen median ${median(freezes)} ms (max ${Math.max(...freezes)})`;
  console.log(`  3-volume set, writer running: ${frozenFigure}, total median ${median(totals)} ms (max ${Math.max(...totals)}), n=7, load ${load}`);
  assert.not.ok(await isFrozen(await nodeCgroup((await view()).pid!)), 'thawed');
  const created = seen.filter((e) => e.type === 'disk.snapshot.created');
  assert.is(created.length, 7);
  assert.is(created[0]!.data.node, web);

  await exec(['dd', 'if=/dev/urandom', `of=${join(volumePath('b'), 'big')}`, 'bs=1M', 'count=4', 'status=none']);
  const record = await keeper.snapshot(web);
  const listed = (await keeper.list(web)).find((s) => s.name === record.name)!;
  const b = listed.volumes.find((v) => v.volume === 'b')!;
  assert.ok(b.referencedBytes >= 4 * MiB, `b references the 4 MiB file: ${b.referencedBytes}`);
  assert.equal(
    listed.volumes.map((v) => v.volume),
    VOLUMES,
  );
  assert.is(
    listed.exclusiveBytes,
    listed.volumes.reduce((s, v) => s + v.exclusiveBytes, 0),
  );
});

t('a single file is read from a set; paths that leave the snapshot are refused', async () => {
  await exec(['sh', '-c', `echo inside > ${volumePath('a')}/f && mkdir -p ${volumePath('a')}/d`]);
  await symlink('/etc/hostname', join(volumePath('a'), 'out'));
  await symlink('../f', join(volumePath('a'), 'd/up'));
  await symlink('../../../../../../..', join(volumePath('a'), 'root'));
  const { name } = await keeper.snapshot(web);
  const read = async (path: string) => {
    const file = await keeper.readFile(web, name, 'a', path);
    let text = '';
    for await (const chunk of file.stream) text += chunk;
    return text;
  };
  assert.is(await read('/f'), 'inside\n');
  assert.is(await read('d/up'), 'inside\n', 'a link that stays inside is followed');
  assert.is(await code(read('../../../../etc/hostname')), 'INVALID_SNAPSHOT_PATH');
  assert.is(await code(read('/out')), 'SNAPSHOT_PATH_OUTSIDE');
  assert.is(await code(read('/root/etc/hostname')), 'SNAPSHOT_PATH_OUTSIDE');
  assert.is(await code(read('/d')), 'SNAPSHOT_PATH_NOT_FILE');
  assert.is(await code(read('/nothing')), 'SNAPSHOT_FILE_NOT_FOUND');
  assert.is(await code(keeper.readFile(web, name, 'zz', '/f')), 'VOLUME_NOT_FOUND');
  assert.is(await code(keeper.readFile(web, '2020-01-01T00.00.00.000Z-auto', 'a', '/f')), 'SNAPSHOT_NOT_FOUND');
  assert.is(await code(keeper.readFile(web, '../x', 'a', '/f')), 'INVALID_SNAPSHOT_NAME');
  assert.is(await code(keeper.readFile('nobody', name, 'a', '/f')), 'NODE_NOT_FOUND');
});

t('rollback is refused while the node runs and changes nothing; stopped, one volume goes back; a set opens as a new volume', async () => {
  await exec(['sh', '-c', `echo before > ${volumePath('b')}/keep; echo before > ${volumePath('c')}/keep`]);
  const { name } = await keeper.snapshot(web);
  await exec(['sh', '-c', `echo after > ${volumePath('b')}/keep; echo after > ${volumePath('c')}/keep`]);
  assert.is(await code(keeper.restore(web, name)), 'NODE_RUNNING');
  assert.is(await readFile(join(volumePath('b'), 'keep'), 'utf8'), 'after\n', 'nothing rolled back');
  assert.is((await view()).state, 'running');

  await nodes.actions().stop(web);
  assert.is(await code(keeper.restore(web, name, { volumes: ['b', 'nope'] })), 'VOLUME_NOT_FOUND');
  assert.is(await readFile(join(volumePath('b'), 'keep'), 'utf8'), 'after\n', 'a bad volume list rolls nothing back');
  const result = await keeper.restore(web, name, { volumes: ['b'] });
  assert.equal(result.restored, ['b']);
  assert.is(await readFile(join(volumePath('b'), 'keep'), 'utf8'), 'before\n');
  assert.is(await readFile(join(volumePath('c'), 'keep'), 'utf8'), 'after\n', 'c was not asked for');

  // a stopped node is snapshotted without a freeze
  const stopped = await keeper.snapshot(web);
  assert.is(stopped.frozen, false);
  assert.is(stopped.freezeMs, 0);

  const opened = await keeper.restore(web, name, { volumes: ['c'], asNewVolume: { volume: 'c-old' } });
  assert.equal(opened.opened, { node: web, volume: 'c-old' });
  assert.is(await readFile(join(pool.mountPoint, 'volumes', web, 'c-old', 'keep'), 'utf8'), 'before\n');
  assert.is(await code(keeper.restore(web, name, { asNewVolume: { volume: 'c-old2' } })), 'INVALID_RESTORE');
  assert.is(await code(keeper.restore(web, name, { volumes: ['c'], asNewVolume: { volume: 'c-old' } })), 'VOLUME_EXISTS');
  await nodes.volumeDriver()!.deleteVolume({ node: web, volume: 'c-old' });

  // all volumes of the set, when none are named
  const all = await keeper.restore(web, name);
  assert.equal(all.restored, VOLUMES);
  assert.is(await readFile(join(volumePath('c'), 'keep'), 'utf8'), 'before\n');

  await nodes.actions().start(web);
  assert.is((await nodes.actions().exec(web, ['cat', '/b/keep'])).stdout, 'before\n', 'the node sees the rolled-back volume');
});

t('delete removes a set and its volume snapshots; unknown and bad names are refused', async () => {
  const { name } = await keeper.snapshot(web);
  assert.ok(await stat(snapshotPath('a', name)));
  await keeper.remove(web, name);
  assert.not.ok((await keeper.list(web)).some((s) => s.name === name));
  for (const v of VOLUMES) assert.is(await stat(snapshotPath(v, name)).catch(() => null), null);
  assert.is(seen.at(-1)?.type, 'disk.snapshot.deleted');
  assert.is(await code(keeper.remove(web, name)), 'SNAPSHOT_NOT_FOUND');
  assert.is(await code(keeper.remove(web, 'x/../../y')), 'INVALID_SNAPSHOT_NAME');
  assert.is(await code(keeper.remove(web, 'plain-name')), 'INVALID_SNAPSHOT_NAME');
});

t('a set a killed agent left half made is removed at the next start, and a node it left frozen is thawed', async () => {
  // what an agent killed between two volume snapshots (or while frozen) leaves: the intent record,
  // one volume's snapshot, the freeze marker, and the node frozen
  const ops = new NodeSnapshots({ driver: nodes.volumeDriver()!, run: exec, stateDir: dir, log: pino({ level: 'silent' }) });
  const half = '2026-01-01T00.00.00.000Z-auto';
  await ops.records.begin(web, half, VOLUMES);
  await nodes.volumeDriver()!.createSnapshot({ node: web, volume: 'a' }, half);
  const cgroup = await nodeCgroup((await view()).pid!);
  await ops.records.freezeMarker(web).write(cgroup);
  await freeze(cgroup);
  assert.not.ok(
    (await keeper.list(web)).some((s) => s.name === half),
    'a half-made set is not counted',
  );

  await keeper.stop();
  keeper = diskDeps();
  await keeper.start();
  assert.not.ok(await isFrozen(cgroup), 'thawed at start');
  assert.is(await stat(snapshotPath('a', half)).catch(() => null), null, "the half set's snapshot is gone");
  assert.is((await nodes.actions().exec(web, ['true'])).exitCode, 0);
  const next = await keeper.snapshot(web);
  assert.ok(next.frozen);
});

t('a node never stands still past the bound: snapshots still running then are thawed out of and the set discarded', async () => {
  // a bound of 0 ms stands for a btrfs commit stall (measured at 5-8 s on this machine under load)
  const ops = new NodeSnapshots({ driver: nodes.volumeDriver()!, run: exec, stateDir: dir, log: pino({ level: 'silent' }), maxFrozenMs: 0 });
  const node = await view();
  const before = (await ops.records.list(web)).map((r) => r.name);
  assert.is(await code(ops.create({ name: web, running: true, pid: node.pid }, 'manual')), 'SNAPSHOT_FREEZE_OVERRUN');
  assert.not.ok(await isFrozen(await nodeCgroup(node.pid!)), 'thawed');
  assert.equal(
    (await ops.records.list(web)).map((r) => r.name),
    before,
    'no set counted',
  );
  for (const volume of VOLUMES) {
    const names = (await nodes.volumeDriver()!.listSnapshots({ node: web, volume })).map((x) => x.name);
    assert.equal(
      names.filter((n) => !before.includes(n)),
      [],
      `no snapshot of the discarded set left in ${volume}`,
    );
  }
  assert.is((await nodes.actions().exec(web, ['true'])).exitCode, 0, 'the node runs');
});

t('a freeze marker cut short by the kill: the node is found by its process and thawed all the same', async () => {
  const cgroup = await nodeCgroup((await view()).pid!);
  await writeFile(join(dir, 'disk', 'snapshots', web, '.frozen.json'), '{"kind":"v');
  await freeze(cgroup);
  await keeper.stop();
  keeper = diskDeps();
  await keeper.start();
  assert.not.ok(await isFrozen(cgroup), 'thawed at start');
  assert.equal(keeper.health(), { state: 'ok' });
});

t('the schedule takes a set every snapshotSeconds and retention deletes what the policy does not keep', async () => {
  await keeper.stop();
  // keep nothing but the newest automatic set (manual sets stay)
  keeper = diskDeps({ recentMinutes: 0, hourly: 0, daily: 0, weekly: 0 });
  await keeper.start();
  const manual = (await keeper.list(web)).filter((s) => s.kind === 'manual').length;
  const from = seen.length;
  await nodes.actions().patch(web, { disk: { snapshotSeconds: 1 } });
  await waitFor(
    'three automatic sets',
    async () => seen.slice(from).filter((e) => e.type === 'disk.snapshot.created' && e.data.kind === 'auto').length >= 3,
    60_000,
  );
  await nodes.actions().patch(web, { disk: { snapshotSeconds: 0 } });
  await keeper.stop();
  const deleted = seen.slice(from).filter((e) => e.type === 'disk.snapshot.deleted' && e.data.reason === 'retention');
  assert.ok(deleted.length >= 2, `retention deleted ${deleted.length}`);
  const sets = await keeper.list(web);
  assert.is(sets.filter((s) => s.kind === 'auto').length, 1, 'only the newest automatic set is left');
  assert.is(sets.filter((s) => s.kind === 'manual').length, manual, 'manual sets stay');
  assert.equal(keeper.health(), { state: 'ok' });
});

t.run();
