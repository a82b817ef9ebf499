// Part 3: copies with restic 0.14 to `rclone serve restic --append-only` in the benchmark's network
// namespace, the way a station copies a node volume to a peer: a read-only snapshot bind-mounted at
// one stable path (restic's change detection depends on the path), `cd STABLE && restic backup .`.
//   - the first (full) backup of a volume of random data, then incremental ones after overwriting 1%
//     of its bytes in place (1 MiB pieces at random offsets of random files);
//   - restore of the newest copy to the pool against `cp -a` of the same snapshot to the pool, both
//     from a cold cache and both until synced;
//   - bytes the peer holds per copy ÷ source bytes, for that random data and for a Debian root tree.
import { randomFillSync, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { type Bench, dropCaches, envNumber, log, MiB } from './context.ts';
import { parseResticSummary, type ResticSummary } from './parse.ts';
import { fileBytes, type ResticRepo } from './restic.ts';

export interface BackupResult {
  sourceBytes: number;
  full: { wallMs: number; summary: ResticSummary };
  incremental: { wallMs: number; changedBytes: number; summary: ResticSummary }[];
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

export async function measureBackups(bench: Bench, node: string, volume: string, repo: ResticRepo, repoDir: string): Promise<BackupResult> {
  const totalMB = envNumber('BENCH_BACKUP_MB', 1024);
  const fileMB = envNumber('BENCH_BACKUP_FILE_MB', 8);
  const rounds = envNumber('BENCH_INCREMENTAL_ROUNDS', 3);
  const ref = { node, volume };
  const live = bench.layout.volumePath(ref);
  const stable = join(bench.dir, 'stable');
  await mkdir(stable);
  bench.onCleanup('stable path', async () => {
    if ((await exec(['umount', stable], { allowFailure: true })).exitCode !== 0) await exec(['umount', '-l', stable], { allowFailure: true });
  });
  const sourceBytes = await fill(live, totalMB, fileMB);
  log(`backup: ${(sourceBytes / MiB).toFixed(0)} MiB of random data written in files of ${fileMB} MiB`);
  await repo.run(['init']);

  // snapshot N, bound at the stable path, backed up, unbound; the one before it removed
  const backup = async (n: number) => {
    await exec(['sync', '-f', live]);
    await bench.driver.createSnapshot(ref, `${bench.prefix}-b${n}`);
    await exec(['mount', '--bind', '-o', 'ro', bench.layout.snapshotPath(ref, `${bench.prefix}-b${n}`), stable]);
    try {
      const { ms, result } = await timed(() => repo.run(['backup', '--host', 'bench', '--json', '.'], { cwd: stable }));
      return { wallMs: ms, summary: parseResticSummary(result.stdout) };
    } finally {
      await exec(['umount', stable]);
      if (n > 0) await bench.driver.deleteSnapshot(ref, `${bench.prefix}-b${n - 1}`);
    }
  };
  const full = await backup(0);
  const repoBytesAfterFull = (await fileBytes(repoDir)).bytes;
  log(`backup: full in ${(full.wallMs / 1000).toFixed(2)} s, repository ${(repoBytesAfterFull / MiB).toFixed(1)} MiB`);
  const incremental = [];
  const changedBytes = Math.round(sourceBytes / 100);
  for (let n = 1; n <= rounds; n++) {
    await change(live, changedBytes, fileMB);
    const r = await backup(n);
    incremental.push({ ...r, changedBytes });
    log(`backup: incremental ${n} in ${(r.wallMs / 1000).toFixed(2)} s (${r.summary.filesChanged} files changed, ${r.summary.filesUnmodified} unmodified)`);
  }

  // restore the newest copy and copy the newest snapshot, each onto the pool from a cold cache
  const snapshot = bench.layout.snapshotPath(ref, `${bench.prefix}-b${rounds}`);
  const restoreTarget = join(bench.poolMount, `${bench.prefix}-restored`);
  const cpTarget = join(bench.poolMount, `${bench.prefix}-copied`);
  const repoFiles = (await readdir(repoDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const snapshotFiles = (await readdir(snapshot)).map((f) => join(snapshot, f));
  await dropCaches(bench, [...repoFiles, ...snapshotFiles]);
  const restored = await timed(async () => {
    await repo.run(['restore', 'latest', '--path', stable, '--target', restoreTarget]);
    await exec(['sync', '-f', bench.poolMount]);
  });
  await dropCaches(bench, [...repoFiles, ...snapshotFiles]);
  const copied = await timed(async () => {
    await exec(['cp', '-a', snapshot, cpTarget], { timeoutMs: 600_000 });
    await exec(['sync', '-f', bench.poolMount]);
  });
  const back = await fileBytes(restoreTarget);
  if (back.bytes !== sourceBytes || !existsSync(join(restoreTarget, 'f0000'))) {
    throw new Error(`the restore brought back ${back.bytes} bytes in ${back.files} files, not the volume's ${sourceBytes}`);
  }
  log(`restore: restic ${(restored.ms / 1000).toFixed(2)} s, cp -a ${(copied.ms / 1000).toFixed(2)} s`);
  return { sourceBytes, full, incremental, repoBytesAfterFull, restore: { resticMs: restored.ms, cpMs: copied.ms, bytes: back.bytes } };
}

/** Bytes a copy of `tree` holds ÷ the tree's bytes (each file once, hard links once). */
export async function copyRatio(
  repo: ResticRepo,
  repoDir: string,
  tree: string,
): Promise<{ sourceBytes: number; repoBytes: number; files: number; ms: number }> {
  await repo.run(['init']);
  const { ms } = await timed(() => repo.run(['backup', '--host', 'bench', '--json', '.'], { cwd: tree }));
  const source = await fileBytes(tree);
  return { sourceBytes: source.bytes, repoBytes: (await fileBytes(repoDir)).bytes, files: source.files, ms };
}
