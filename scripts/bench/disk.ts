// Benchmark: Infinite Disk, each figure against a baseline measured in the same run.
//  1. fio inside a busybox node on its btrfs volume vs the same fio on the raw pool from the host:
//     sequential write and read (1 MiB blocks), 4 KiB random writes each followed by fdatasync
//     (goal: ratio >= 0.95);
//  2. a 3-volume snapshot set (the agent's NodeSnapshots) of a node that keeps writing: time frozen
//     (goal <= 50 ms) and the whole set (goal <= 1 s), against the same set taken without freezing;
//  3. copies as the agent makes them (its Restic and StablePaths) to `rclone serve restic
//     --append-only`: an incremental backup after 1% of a 1 GiB volume changed (goal <= 10 s)
//     against the first full backup; restore throughput against `cp -a --reflink=never`; bytes the
//     peer holds per copy / source bytes for random data (goal <= 1.05) and a Debian root tree
//     (goal <= 0.6).
// The station is a real agent on a loop-backed btrfs pool, in a network namespace made here; the
// pool, the namespace, the nodes, rclone and every mount carry the run prefix stbdXXXX and are
// removed at the end, also on failure or Ctrl-C.
//   node scripts/bench/disk.ts   sizes: BENCH_SEQ_MB=256 BENCH_RAND_MB=32 BENCH_RAND_SECONDS=3 BENCH_IO_ROUNDS=9
//     BENCH_SNAPSHOT_ROUNDS=9 BENCH_BACKUP_MB=1024 BENCH_BACKUP_FILE_MB=8 BENCH_INCREMENTAL_ROUNDS=3
//     BENCH_DEBIAN_TREE (default: the debian node template's rootfs) BENCH_POOL_MB (default: enough for the sizes)
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { BtrfsVolumeDriver } from '../../agent/storage/btrfs-driver.ts';
import { VolumeLayout } from '../../agent/storage/layout.ts';
import { LoopPool } from '../../agent/storage/pool.ts';
import { removeNetns } from '../lib/netns.ts';
import { copyRatio, measureBackups } from './disk/backup.ts';
import { type Bench, envNumber, log } from './disk/context.ts';
import { measureIo } from './disk/io.ts';
import { summary, table } from './disk/report.ts';
import { startRestServer, writeResticPassword } from './disk/restic.ts';
import { Restic } from '../../agent/disk/copies/restic.ts';
import { measureSnapshots, SNAPSHOT_VOLUMES, WRITER } from './disk/snapshot.ts';
import { startBenchAgent } from './lib/agent.ts';
import { cleanupSteps, loadAverage } from './lib/cleanup.ts';
import { runBench } from './lib/run.ts';

const PREFIX = `stbd${randomBytes(2).toString('hex')}`;
const NS = PREFIX;
const REST_ADDR = '198.18.62.1';
const PORT = 30000 + Math.floor(Math.random() * 20000);
const REST_PORT = PORT + 1;
const TEMPLATE_CACHE = process.env.STATION_TEMPLATE_CACHE ?? '/var/cache/station-test/templates';
// no schedules of the agent's own: the benchmark takes every snapshot and copy itself
const NO_SCHEDULES = { snapshotSeconds: 0, backupSeconds: 0, copies: 0 };

const cleanup = cleanupSteps(log);
let agent: ChildProcess | undefined;
let token = '';

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const argv = ['curl', '-sS', '-X', method, '-H', `authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
  if (body !== undefined) argv.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  const out = await exec([...argv, `http://127.0.0.1:${PORT}/api/v1${path}`], { netns: NS, timeoutMs: 900_000 });
  const lines = out.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  if (status >= 400) throw new Error(`${method} ${path}: HTTP ${status} ${lines.join('\n')}`);
  return (lines.length ? JSON.parse(lines.join('\n')) : null) as T;
}

async function setUp(): Promise<Bench> {
  // room for the volume, its restore and its copy, the fio files, and the snapshots' changes
  const poolMB = envNumber('BENCH_POOL_MB', 3 * envNumber('BENCH_BACKUP_MB', 1024) + 2 * envNumber('BENCH_SEQ_MB', 256) + 2048);
  const dir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
  cleanup.add({ what: 'run directory', run: () => rm(dir, { recursive: true, force: true }) });
  const stateDir = join(dir, 'state');
  const pool = new LoopPool({
    file: join(stateDir, 'storage', 'pool.img'),
    mountPoint: join(stateDir, 'storage', 'pool'),
    sizeBytes: poolMB * 1024 * 1024,
    label: PREFIX,
  });
  // mounted here, before the agent starts, so the host's mount namespace sees the pool too (the
  // agent runs in a mount namespace of its own and reuses a pool it finds mounted)
  cleanup.add({
    what: 'pool',
    run: async () => {
      if ((await exec(['umount', pool.mountPoint], { allowFailure: true })).exitCode !== 0)
        await exec(['umount', '-l', pool.mountPoint], { allowFailure: true });
      const listed = await exec(['losetup', '-j', pool.file], { allowFailure: true });
      for (const line of listed.stdout.split('\n').filter(Boolean)) await exec(['losetup', '-d', line.split(':')[0]!], { allowFailure: true });
    },
  });
  await pool.ensure();
  cleanup.add({ what: 'network namespace', run: () => removeNetns(NS) });
  await exec(['ip', 'netns', 'add', NS]);
  await exec(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  await exec(['ip', '-n', NS, 'addr', 'add', `${REST_ADDR}/32`, 'dev', 'lo']);
  const lxcPath = join(stateDir, 'lxc');
  cleanup.add({ what: 'agent and nodes', run: () => stopAgent(lxcPath) });
  agent = await startBenchAgent(NS, PORT, {
    STATION_STATE_DIR: stateDir,
    STATION_BRIDGE: `${PREFIX}br`,
    STATION_NODE_SUBNET: '198.18.61.0/24',
    STATION_TEMPLATE_CACHE: TEMPLATE_CACHE,
    STATION_STORAGE_DRIVER: 'btrfs',
    STATION_STORAGE_POOL_SIZE_MB: String(poolMB),
    STATION_DISABLE: 'mesh,wifi,discovery,indicator,disk',
  });
  token = (await readFile(join(stateDir, 'admin-token'), 'utf8')).trim();
  const root = join(pool.mountPoint, 'volumes');
  return {
    prefix: PREFIX,
    ns: NS,
    dir,
    poolFile: pool.file,
    poolMount: pool.mountPoint,
    lxcPath,
    driver: new BtrfsVolumeDriver({ root }),
    layout: new VolumeLayout(root),
    api,
    onCleanup: (what, run) => cleanup.add({ what, run }),
  };
}

async function stopAgent(lxcPath: string): Promise<void> {
  if (agent && agent.exitCode === null) {
    const listed = await api<{ nodes: { name: string }[] }>('GET', '/nodes').catch(() => ({ nodes: [] }));
    for (const n of listed.nodes) await api('DELETE', `/nodes/${n.name}?volumes=delete`).catch(() => {});
    agent.kill('SIGTERM');
    await new Promise((r) => agent!.once('exit', r));
  }
  const run = netnsRunner(NS);
  for (const name of await readdir(lxcPath).catch(() => [] as string[])) {
    await run(['lxc-stop', '-P', lxcPath, '-n', name, '-k'], { allowFailure: true }).catch(() => {});
    await run(['lxc-destroy', '-P', lxcPath, '-n', name], { allowFailure: true }).catch(() => {});
  }
}

const tearDown = cleanup.tearDown;

async function main(): Promise<void> {
  const started = Date.now();
  const tree = process.env.BENCH_DEBIAN_TREE ?? (existsSync(join(TEMPLATE_CACHE, 'debian', 'rootfs')) ? join(TEMPLATE_CACHE, 'debian', 'rootfs') : '/usr');
  if (!existsSync(tree)) throw new Error(`BENCH_DEBIAN_TREE=${tree}: no such directory (the Debian root tree whose copy is measured)`);
  const loadBefore = loadAverage();
  const bench = await setUp();
  const io = `${PREFIX}-io`;
  await api('POST', '/nodes', {
    name: io,
    volumes: [
      { name: 'data', path: '/data' },
      { name: 'tools', path: '/tools' },
    ],
    disk: NO_SCHEDULES,
  });
  const ioRows = await measureIo(bench, io);
  await api('DELETE', `/nodes/${io}?volumes=delete`);

  const snap = `${PREFIX}-snap`;
  await api('POST', '/nodes', {
    name: snap,
    volumes: SNAPSHOT_VOLUMES.map((name) => ({ name, path: `/${name}` })),
    modules: [{ name: 'writer', run: WRITER }],
    disk: NO_SCHEDULES,
  });
  for (let i = 0; !existsSync(join(bench.layout.volumePath({ node: snap, volume: 'v3' }), 'w')); i++) {
    if (i > 200) throw new Error(`the writer in node ${snap} wrote nothing in 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const snapshots = await measureSnapshots(bench, snap);
  await api('DELETE', `/nodes/${snap}?volumes=delete`); // its writer would disturb the backup timings

  await mkdir(join(bench.dir, 'store'));
  const server = await startRestServer(NS, REST_ADDR, REST_PORT, bench.dir);
  bench.onCleanup('rclone serve restic', async () => {
    if (server.process.exitCode !== null) return;
    server.process.kill('SIGTERM');
    await new Promise((r) => server.process.once('exit', r));
  });
  const passwordFile = join(bench.dir, 'restic-password');
  await writeResticPassword(passwordFile);
  const restic = new Restic({ run: exec, passwordFile, cacheDir: join(bench.dir, 'restic-cache'), netns: NS });
  const repo = (name: string) => ({ url: `${server.base}${name}/`, label: `bench/${name}` });
  const bk = `${PREFIX}-bk`;
  await api('POST', '/nodes', { name: bk, volumes: [{ name: 'data', path: '/data' }], disk: NO_SCHEDULES });
  const backup = await measureBackups(bench, bk, 'data', restic, repo('vol'), join(bench.dir, 'store', 'bench', 'vol'));
  const debian = await copyRatio(restic, repo('debian'), join(bench.dir, 'store', 'bench', 'debian'), tree);
  const seconds = (debian.ms / 1000).toFixed(1);
  log(`debian tree ${tree}: ${debian.files} files, ${debian.sourceBytes} bytes -> ${debian.repoBytes} bytes held, backed up in ${seconds} s`);

  const result = summary(
    ioRows,
    snapshots,
    "the agent's NodeSnapshots.create (agent/disk/snapshots): sync, cgroup v2 freeze, 3 snapshots in parallel, thaw",
    backup,
    {
      random: { sourceBytes: backup.sourceBytes, repoBytes: backup.repoBytesAfterFull },
      debian: { tree, sourceBytes: debian.sourceBytes, repoBytes: debian.repoBytes, files: debian.files },
    },
    `${loadBefore} (start), ${loadAverage()} (end)`,
  );
  process.stdout.write(`${table(result)}\nload average: ${result.loadAverage}; ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await runBench('bench disk', main, tearDown);
