// restic 0.14's output as it was printed here (test/fixtures/restic/, captured through rclone serve
// restic in a test namespace): the summary the copies count, the snapshot list they pick from, the
// bytes a peer holds, and the failures they act on, each sorted into its class.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as output from '../../../../../agent/disk/copies/restic-output.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../fixtures/restic/${name}`, import.meta.url), 'utf8');

test('the backup summary gives the snapshot id, bytes added and duration', () => {
  const first = output.parseBackupSummary(fixture('backup-first.jsonl'));
  assert.equal(first?.snapshotId, '65102953');
  assert.ok(first!.dataAdded > 2_000_000, 'the first backup adds the 2 MB volume');
  const next = output.parseBackupSummary(fixture('backup-incremental.jsonl'));
  assert.equal(
    { id: next?.snapshotId, added: next?.dataAdded, changed: next?.filesChanged, same: next?.filesUnmodified },
    { id: 'f45a18ce', added: 1836, changed: 1, same: 2 },
  );
  assert.ok(next!.durationSeconds > 0 && next!.durationSeconds < 1);
});

test('a backup cut off by a lost peer has no summary, so no snapshot is counted', () => {
  assert.is(output.parseBackupSummary(fixture('peer-lost-mid-backup.jsonl')), null);
  assert.is(output.parseBackupSummary(''), null);
  assert.is(output.parseBackupSummary('{"message_type":"summary","snapshot_id":""}\nnot json'), null);
});

test('snapshots list ids, hosts, tags and paths; a copied snapshot names its original', () => {
  const list = output.parseSnapshots(fixture('snapshots.json'));
  assert.equal(
    list.map((s) => [s.shortId, s.hostname, s.tags, s.original]),
    [
      ['65102953', 's1', ['node=web'], null],
      ['f45a18ce', 's1', ['node=web'], null],
    ],
  );
  assert.is(list[1]!.id.length, 64);
  assert.is(list[1]!.time, '2026-12-04T20:12:04.154483974Z');
  const copied = output.parseSnapshots(
    `[{"time":"t","tree":"x","paths":["/p"],"hostname":"s1","username":"root","original":"ab","id":"${'c'.repeat(64)}","short_id":"cccccccc"}]`,
  );
  assert.is(copied[0]!.original, 'ab');
  assert.equal(output.parseSnapshots(''), []);
  assert.throws(() => output.parseSnapshots('{}'), /array/);
});

test('raw-data stats give the bytes a copy takes on its peer', () => {
  assert.equal(output.parseRawDataStats(fixture('stats-raw-data.json')), { totalBytes: 2002204, snapshots: 2 });
  assert.throws(() => output.parseRawDataStats('{}'), /total_size/);
});

test('check: clean only with rc 0 and restic saying so; damage names the problem', () => {
  assert.equal(output.parseCheck(0, fixture('check-clean.out'), ''), { ok: true, problem: null });
  const damaged = output.parseCheck(1, fixture('check-damaged.out'), fixture('check-damaged.err'));
  assert.is(damaged.ok, false);
  assert.match(damaged.problem!, /Pack ID does not match/);
  assert.is(output.parseCheck(0, '', '').ok, false, 'an rc 0 without the verdict is not taken as clean');
});

test('copy names the snapshots it saved, and none on a second run', () => {
  assert.equal(output.parseCopySaved(fixture('copy.out')), ['93674074', '52835d95']);
  assert.equal(output.parseCopySaved(fixture('copy-again.out')), []);
});

test('each failure restic printed is sorted into its class', () => {
  const cls = (name: string) => output.classifyResticError(fixture(name)).failure;
  assert.is(cls('wrong-password.err'), 'WRONG_KEY');
  assert.is(cls('init-exists.err'), 'REPOSITORY_EXISTS');
  assert.is(cls('not-a-repository.err'), 'NOT_A_REPOSITORY');
  assert.is(cls('peer-unreachable.err'), 'PEER_UNREACHABLE');
  assert.is(cls('peer-lost-mid-backup.err'), 'PEER_UNREACHABLE');
  assert.is(cls('forbidden.err'), 'PEER_FORBIDDEN');
  assert.is(cls('unauthorized.err'), 'PEER_UNAUTHORIZED');
  assert.is(cls('check-damaged.err'), 'REPOSITORY_DAMAGED');
  assert.is(output.classifyResticError('cannot dump file: path "/volumes/data/none.txt" not found in snapshot').failure, 'PATH_NOT_FOUND');
  assert.equal(output.classifyResticError('Fatal: something new'), { failure: 'RESTIC_FAILED', message: 'something new' });
});

test('the retry lines of a lost peer are told apart from other output', () => {
  const lines = fixture('peer-lost-mid-backup.err').split('\n').filter(Boolean);
  assert.ok(lines.length >= 5 && lines.every(output.isUnansweredRetry));
  assert.not.ok(
    output.isUnansweredRetry('Remove(<snapshot/85bec617f7>) returned error, retrying after 552ms: blob not removed, server response: 403 Forbidden (403)'),
  );
  assert.not.ok(output.isUnansweredRetry('snapshot 93674074 saved'));
});

test.run();
