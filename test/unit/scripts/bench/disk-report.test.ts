// The disk benchmark's result: ratios from rounds measured back to back, goals, and the table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackupResult } from '../../../../scripts/bench/disk/backup.ts';
import type { IoRow } from '../../../../scripts/bench/disk/io.ts';
import { summary, table } from '../../../../scripts/bench/disk/report.ts';

const MiB = 1024 * 1024;
const fio = (mibps: number) => ({ bytesPerSecond: mibps * MiB, iops: mibps, runtimeMs: 1000, syncP50Us: null });
const backupSummary = { snapshotId: 'abcd1234', dataAdded: 0, durationSeconds: 1, filesNew: 0, filesChanged: 3, filesUnmodified: 125, totalBytes: 0 };
const backup: BackupResult = {
  sourceBytes: 1024 * MiB,
  full: { wallMs: 20_000, summary: backupSummary },
  incremental: [3000, 2000, 2500].map((wallMs) => ({ wallMs, changedBytes: 10 * MiB, summary: backupSummary })),
  repoBytesAfterFull: 1025 * MiB,
  restore: { resticMs: 20_000, cpMs: 5_000, bytes: 1024 * MiB },
};
const ratios = { random: { sourceBytes: 1000, repoBytes: 1002 }, debian: { tree: '/t', sourceBytes: 1000, repoBytes: 700, files: 3 } };
const snapshots = [40, 60, 45].map((frozenMs) => ({ frozenMs, totalMs: frozenMs + 50, unfrozenTotalMs: 80 }));

test("io ratio is the median of each round's own node/raw-pool ratio, not a ratio of medians", () => {
  // a load burst in round 2 slowed both sides of that pair alike
  const rows: IoRow[] = [
    { job: 'seqwrite', node: [fio(190), fio(50), fio(200)], host: [fio(200), fio(55), fio(210)], hostOnVolume: [fio(195), fio(52), fio(205)] },
  ];
  const s = summary(rows, snapshots, 'm', backup, ratios, '1 1 1');
  assert.is(s.io.seqwrite!.ratio, 0.95);
  assert.is(s.io.seqwrite!.met, true);
  assert.is(s.io.seqwrite!.nodeMiBps, 190);
  assert.is(s.io.seqwrite!.rawPoolMiBps, 200);
});

test('goals: frozen median over 50 ms, incremental, bytes per copy and restore ratio', () => {
  const rows: IoRow[] = [{ job: 'randwrite', node: [fio(80)], host: [fio(100)], hostOnVolume: [fio(81)] }];
  const s = summary(rows, snapshots, 'm', backup, ratios, '1 1 1');
  assert.is(s.io.randwrite!.met, false);
  assert.is(s.snapshot.frozenMs.median, 45);
  assert.is(s.snapshot.met, true);
  assert.is(summary(rows, [{ frozenMs: 51, totalMs: 90, unfrozenTotalMs: 80 }], 'm', backup, ratios, '').snapshot.met, false);
  assert.is(s.backup.incrementalSeconds.median, 2.5);
  assert.is(s.backup.ratioToFull, 0.125);
  assert.is(s.backup.met, true);
  assert.is(s.restore.ratio, 0.25);
  assert.is(s.bytesPerCopy.random.ratio, 1.002);
  assert.is(s.bytesPerCopy.debian.met, false);
});

test('the table has one line per measure, columns aligned, the misses marked', () => {
  const rows: IoRow[] = ['seqwrite', 'seqread', 'randwrite'].map((job) => ({
    job: job as IoRow['job'],
    node: [fio(90)],
    host: [fio(100)],
    hostOnVolume: [fio(95)],
  }));
  const lines = table(summary(rows, snapshots, 'their module', backup, ratios, '1 1 1')).split('\n');
  assert.is(lines.length, 1 + 3 + 2 + 1 + 1 + 2);
  assert.ok(lines[0]!.startsWith('measure'));
  assert.match(lines[3]!, /4 KiB random write \+ fdatasync .* 90 IOPS +100 IOPS +0\.9 .* NO/);
  assert.match(lines.find((l) => l.startsWith('bytes per copy / source, Debian'))!, /0\.7 +<= 0\.6 +NO/);
  const column = lines[0]!.indexOf('baseline');
  assert.ok(lines.slice(1).every((l) => l.length <= column || l[column - 1] === ' '));
});

test.run();
