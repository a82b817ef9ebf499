// The disk benchmark's result: one summary object (printed as a JSON line) and a table made from it.
import { median, summarise } from '../lib/stats.ts';
import { alignedTable } from '../lib/table.ts';
import type { BackupResult } from './backup.ts';
import { MiB } from './context.ts';
import { type IoRow, ioSummary } from './io.ts';
import type { SnapshotRound } from './snapshot.ts';

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

export interface Ratios {
  random: { sourceBytes: number; repoBytes: number };
  debian: { tree: string; sourceBytes: number; repoBytes: number; files: number };
}

export function summary(io: IoRow[], snapshots: SnapshotRound[], snapshotMethod: string, backup: BackupResult, ratios: Ratios, load: string) {
  const frozen = summarise(snapshots.map((s) => s.frozenMs));
  const total = summarise(snapshots.map((s) => s.totalMs));
  const incremental = backup.incremental.map((i) => i.wallMs / 1000);
  const restoreMiBps = backup.restore.bytes / MiB / (backup.restore.resticMs / 1000);
  const cpMiBps = backup.restore.bytes / MiB / (backup.restore.cpMs / 1000);
  const randomRatio = ratios.random.repoBytes / ratios.random.sourceBytes;
  const debianRatio = ratios.debian.repoBytes / ratios.debian.sourceBytes;
  return {
    bench: 'disk',
    loadAverage: load,
    io: ioSummary(io),
    snapshot: {
      method: snapshotMethod,
      volumes: 3,
      frozenMs: frozen,
      totalMs: total,
      unfrozenBaselineTotalMs: summarise(snapshots.map((s) => s.unfrozenTotalMs)),
      goal: 'frozen <= 50 ms, total <= 1000 ms (medians)',
      met: frozen.median <= 50 && total.median <= 1000,
    },
    backup: {
      sourceMiB: round(backup.sourceBytes / MiB, 1),
      fullSeconds: round(backup.full.wallMs / 1000),
      incrementalSeconds: summarise(incremental),
      changedMiB: round((backup.incremental[0]?.changedBytes ?? 0) / MiB, 1),
      incrementalFilesChanged: backup.incremental.map((i) => i.summary.filesChanged),
      ratioToFull: round(median(incremental) / (backup.full.wallMs / 1000), 3),
      goal: 'incremental <= 10 s (median)',
      met: median(incremental) <= 10,
    },
    restore: {
      resticMiBps: round(restoreMiBps, 1),
      cpMiBps: round(cpMiBps, 1),
      resticSeconds: round(backup.restore.resticMs / 1000),
      cpSeconds: round(backup.restore.cpMs / 1000),
      ratio: round(restoreMiBps / cpMiBps, 3),
    },
    bytesPerCopy: {
      random: {
        sourceBytes: ratios.random.sourceBytes,
        repoBytes: ratios.random.repoBytes,
        ratio: round(randomRatio, 4),
        goal: '<= 1.05',
        met: randomRatio <= 1.05,
      },
      debian: { ...ratios.debian, ratio: round(debianRatio, 3), goal: '<= 0.6', met: debianRatio <= 0.6 },
    },
  };
}

export type DiskSummary = ReturnType<typeof summary>;

/** The human table: measure, Station's figure, the baseline from the same run, ratio, goal. */
export function table(s: DiskSummary): string {
  const rows: string[][] = [['measure', 'station', 'baseline (same run)', 'ratio', 'goal', 'met', 'note']];
  const yes = (met: boolean) => (met ? 'yes' : 'NO');
  const names = { seqwrite: 'sequential write 1 MiB', seqread: 'sequential read 1 MiB', randwrite: '4 KiB random write + fdatasync' } as const;
  for (const [job, r] of Object.entries(s.io)) {
    const figure = (mibps: number, iops: number) => (job === 'randwrite' ? `${iops} IOPS` : `${mibps} MiB/s`);
    rows.push([
      `${names[job as keyof typeof names]} (node vs raw pool)`,
      figure(r.nodeMiBps, r.nodeIops),
      figure(r.rawPoolMiBps, r.rawPoolIops),
      String(r.ratio),
      r.goal,
      yes(r.met),
      `host on the volume: ${figure(r.hostOnVolumeMiBps, r.hostOnVolumeIops)}, ratio ${r.hostOnVolumeRatio}`,
    ]);
  }
  const sn = s.snapshot;
  rows.push([
    'node frozen, 3-volume snapshot (median/max)',
    `${sn.frozenMs.median}/${sn.frozenMs.max} ms`,
    '',
    '',
    '<= 50 ms',
    yes(sn.frozenMs.median <= 50),
    sn.method,
  ]);
  rows.push([
    'snapshot total (sync+freeze+3 snapshots+thaw)',
    `${sn.totalMs.median} ms`,
    `${sn.unfrozenBaselineTotalMs.median} ms unfrozen`,
    String(round(sn.totalMs.median / sn.unfrozenBaselineTotalMs.median)),
    '<= 1000 ms',
    yes(sn.totalMs.median <= 1000),
  ]);
  const b = s.backup;
  rows.push([
    `incremental backup, ${b.changedMiB} MiB of ${b.sourceMiB} MiB changed`,
    `${b.incrementalSeconds.median} s`,
    `${b.fullSeconds} s full`,
    String(b.ratioToFull),
    '<= 10 s',
    yes(b.met),
  ]);
  rows.push([
    'restore (restic restore vs cp -a)',
    `${s.restore.resticMiBps} MiB/s`,
    `${s.restore.cpMiBps} MiB/s`,
    String(s.restore.ratio),
    '',
    '',
    'cp -a --reflink=never, both onto the pool from a cold cache, until synced',
  ]);
  const copies = [
    ['random data', s.bytesPerCopy.random],
    ['Debian root', s.bytesPerCopy.debian],
  ] as const;
  for (const [data, c] of copies) {
    rows.push([`bytes per copy / source, ${data}`, String(c.repoBytes), String(c.sourceBytes), String(c.ratio), c.goal, yes(c.met)]);
  }
  return alignedTable(rows);
}
