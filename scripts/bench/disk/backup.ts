// Part 3: copies as the agent makes them (agent/disk/copies: Restic, StablePaths; agent/disk/snapshots:
// NodeSnapshots), to `rclone serve restic --append-only --private-repos` in the benchmark's network
// namespace: a snapshot set of the node, its volume bind-mounted read-only at the node's one stable
// path (restic's change detection depends on the path), `restic backup .` from there.
//   - the first (full) backup of a volume of random data, then incremental ones after overwriting 1%
//     of its bytes in place (1 MiB pieces at random offsets of random files);
//   - restore of the newest copy onto the pool against `cp -a --reflink=never` of the same snapshot
//     onto the pool (a plain `cp -a` on btrfs clones extents and copies no data), both from a cold
//     cache and both until synced;
//   - bytes the peer holds per copy / source bytes, for that random data and for a Debian root tree.
import { randomFillSync, randomInt } from 'node:crypto';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupSummary } from '../../../agent/disk/copies/restic-output.ts';
import type { Repository, Restic } from '../../../agent/disk/copies/restic.ts';
import { StablePaths } from '../../../agent/disk/copies/stable-path.ts';
import { exec } from '../../../agent/exec.ts';
import { type Bench, dropCaches, envNumber, log, MiB } from './context.ts';
import { fileBytes } from './restic.ts';
import { nodePid, nodeSnapshots } from './snapshot.ts';

export interface BackupResult {
  sourceBytes: number;
  full: { wallMs: number; summary: BackupSummary };
  incremental: { wallMs: number; changedBytes: number; summary: BackupSummary }[];
  repoBytesAfterFull: number;
  restore: { resticMs: number; cpMs: number; bytes: number };
}

/** Fills the volume with `totalMB` of random data in files of `fileMB`. */
async function fill(dir: string, totalMB: number, fileMB: number): Promise<number> {
  const chunk = Buffer.alloc(MiB);
  let written = 0;
  for (let i = 0; written < totalMB * MiB; i++) {
    const file = await open(join(dir, `f${String(i).padStart(4, '0')}`), 'w');
    for (let m = 0; m < fileMB && written < totalMB * MiB; m++, written += MiB) await file.write(randomFillSync(chunk));
    await file.close();
  }
  return written;
}

/** Overwrites `bytes` in place, in 1 MiB pieces at random (1 MiB aligned) offsets of random files. */
async function change(dir: string, bytes: number, fileMB: number): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.startsWith('f'));
  const chunk = Buffer.alloc(MiB);
  for (let done = 0; done < bytes; done += MiB) {
    const file = await open(join(dir, files[randomInt(files.length)]!), 'r+');
    await file.write(randomFillSync(chunk), 0, Math.min(MiB, bytes - done), randomInt(fileMB) * MiB);
    await file.close();
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

export async function measureBackups(bench: Bench, node: string, volume: string, restic: Restic, repo: Repository, repoDir: string): Promise<BackupResult> {
  const totalMB = envNumber('BENCH_BACKUP_MB', 1024);
  const fileMB = envNumber('BENCH_BACKUP_FILE_MB', 8);
  const rounds = envNumber('BENCH_INCREMENTAL_ROUNDS', 3);
  const ref = { node, volume };
  const live = bench.layout.volumePath(ref);
  const snapshots = nodeSnapshots(bench);
  const stable = new StablePaths({ run: exec, stateDir: join(bench.dir, 'disk-state') });
  bench.onCleanup('stable path', () => stable.unmountAll());
  const pid = await nodePid(bench, node);
  const sourceBytes = await fill(live, totalMB, fileMB);
  log(`backup: ${(sourceBytes / MiB).toFixed(0)} MiB of random data written in files of ${fileMB} MiB`);
  await restic.init(repo);

  // a snapshot set of the node, its volume at the stable path, backed up; the set before it removed
  let previous: string | null = null;
  const backup = async () => {
    const set = await snapshots.create({ name: node, running: true, pid }, 'manual');
    const source = bench.driver.snapshotSource(ref, set.name);
    const { ms, result } = await timed(() =>
      stable.with(node, { name: node }, [{ volume, source }], (dir) => restic.backup(repo, dir, 'bench', [`node=${node}`])),
    );
    if (previous) await snapshots.delete(node, previous);
    previous = set.name;
    return { wallMs: ms, summary: result, source };
  };
  const full = await backup();
  const repoBytesAfterFull = (await fileBytes(repoDir)).bytes;
  log(`backup: full in ${(full.wallMs / 1000).toFixed(2)} s, repository ${(repoBytesAfterFull / MiB).toFixed(1)} MiB`);
  const incremental = [];
  const changedBytes = Math.round(sourceBytes / 100);
  let newest = full.source;
  for (let n = 1; n <= rounds; n++) {
    await change(live, changedBytes, fileMB);
    const r = await backup();
    newest = r.source;
    incremental.push({ wallMs: r.wallMs, summary: r.summary, changedBytes });
    log(`backup: incremental ${n} in ${(r.wallMs / 1000).toFixed(2)} s (${r.summary.filesChanged} files changed, ${r.summary.filesUnmodified} unmodified)`);
  }

  // restore the newest copy and copy the newest snapshot, each onto the pool from a cold cache
  const restoreTarget = join(bench.poolMount, `${bench.prefix}-restored`);
  const cpTarget = join(bench.poolMount, `${bench.prefix}-copied`);
  const repoFiles = (await readdir(repoDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const snapshotFiles = (await readdir(newest)).map((f) => join(newest, f));
  await mkdir(restoreTarget);
  await dropCaches(bench, [...repoFiles, ...snapshotFiles]);
  const restored = await timed(async () => {
    await restic.restore(repo, 'latest', restoreTarget);
    await exec(['sync', '-f', bench.poolMount]);
  });
  await dropCaches(bench, [...repoFiles, ...snapshotFiles]);
  const copied = await timed(async () => {
    await exec(['cp', '-a', '--reflink=never', newest, cpTarget], { timeoutMs: 600_000 });
    await exec(['sync', '-f', bench.poolMount]);
  });
  const back = await fileBytes(join(restoreTarget, 'volumes', volume));
  const copy = await fileBytes(cpTarget);
  if (back.bytes !== sourceBytes || copy.bytes !== sourceBytes) {
    throw new Error(`the restore brought back ${back.bytes} bytes in ${back.files} files and cp ${copy.bytes}, not the volume's ${sourceBytes}`);
  }
  log(`restore: restic ${(restored.ms / 1000).toFixed(2)} s, cp -a ${(copied.ms / 1000).toFixed(2)} s`);
  return { sourceBytes, full, incremental, repoBytesAfterFull, restore: { resticMs: restored.ms, cpMs: copied.ms, bytes: back.bytes } };
}

/** Bytes a copy of `tree` holds / the tree's bytes (each file once, hard links once). */
export async function copyRatio(
  restic: Restic,
  repo: Repository,
  repoDir: string,
  tree: string,
): Promise<{ sourceBytes: number; repoBytes: number; files: number; ms: number }> {
  await restic.init(repo);
  const { ms } = await timed(() => restic.backup(repo, tree, 'bench', []));
  const source = await fileBytes(tree);
  return { sourceBytes: source.bytes, repoBytes: (await fileBytes(repoDir)).bytes, files: source.files, ms };
}
