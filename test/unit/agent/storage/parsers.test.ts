// The storage parsers on output captured from the real btrfs-progs, losetup and du
// (test/fixtures/btrfs/README.md says how each file was made).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  parseBtrfsVersion,
  parseDuBytes,
  parseLoopDevices,
  parseQgroupShow,
  parseSubvolumeList,
  parseSubvolumeShow,
  quotasDisabled,
  receiveFailure,
} from '../../../../agent/storage/parsers.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/btrfs/${name}`, import.meta.url), 'utf8');
const MiB = 1024 * 1024;

test('qgroup show: every row with bytes, limits (none -> null), and the path from the top level', () => {
  const rows = parseQgroupShow(fixture('qgroup-show.txt'));
  assert.equal(
    rows.map((r) => r.path),
    ['<toplevel>', 'volumes/n1/data', 'volumes/n1/cache', 'volumes/.snapshots/n1/data/s1', 'volumes/.snapshots/n1/data/s2', '<stale>'],
  );
  const data = rows[1]!;
  assert.equal(data, {
    qgroupid: '0/256',
    level: 0,
    id: 256,
    referenced: 10502144,
    exclusive: 16384,
    maxReferenced: 64 * MiB,
    maxExclusive: null,
    path: 'volumes/n1/data',
  });
  assert.is(rows[2]!.maxReferenced, null, 'a volume without a limit');
  // the snapshot shares the volume's 10 MiB: all referenced, almost nothing exclusive
  assert.is(rows[3]!.referenced, 10502144);
  assert.is(rows[3]!.exclusive, 16384);
});

test("qgroup show -f: only the volume's own group", () => {
  const rows = parseQgroupShow(fixture('qgroup-show-follow.txt'));
  assert.is(rows.length, 1);
  assert.is(rows[0]!.level, 0);
  assert.is(rows[0]!.maxReferenced, 64 * MiB);
});

test('qgroup show: human sizes (no --raw) or no header are errors, not wrong numbers', () => {
  const human = fixture('qgroup-show-follow.txt').replace('10502144', '10.02MiB');
  assert.throws(() => parseQgroupShow(human), /expected bytes \(--raw\)/);
  assert.throws(() => parseQgroupShow(fixture('qgroup-show-json-limit.stderr')), /no header/);
  assert.throws(() => parseQgroupShow(''), /no header/);
});

test("quotas off is recognised from btrfs's own words", () => {
  assert.ok(quotasDisabled(fixture('qgroup-show-quotas-off.stderr')));
  assert.not.ok(quotasDisabled(fixture('receive-exists.stderr')));
});

test('subvolume show: path, ids, UUIDs, creation time as ISO, read-only flag', () => {
  const volume = parseSubvolumeShow(fixture('subvolume-show-volume.txt'));
  assert.equal(volume, {
    path: 'volumes/n1/data',
    name: 'data',
    uuid: 'ccfda038-0dc7-aa49-9f1e-1b666a495815',
    parentUuid: null,
    receivedUuid: null,
    id: 256,
    createdAt: '2026-12-04T15:39:49.000Z',
    readonly: false,
  });
  const snapshot = parseSubvolumeShow(fixture('subvolume-show-snapshot.txt'));
  assert.is(snapshot.readonly, true);
  assert.is(snapshot.parentUuid, volume.uuid, 'a snapshot names the volume it was taken of');
  assert.is(snapshot.path, 'volumes/.snapshots/n1/data/s1');
});

test('subvolume show: a received snapshot is read-only with a received UUID; a cut-off one is neither', () => {
  const received = parseSubvolumeShow(fixture('subvolume-show-received.txt'));
  const sent = parseSubvolumeShow(fixture('subvolume-show-snapshot.txt'));
  assert.is(received.readonly, true);
  assert.is(received.receivedUuid, sent.uuid, "the received UUID is the sent snapshot's UUID");
  const partial = parseSubvolumeShow(fixture('subvolume-show-partial.txt'));
  assert.is(partial.readonly, false);
  assert.is(partial.receivedUuid, null);
});

test('subvolume show: output without the fields is an error', () => {
  assert.throws(() => parseSubvolumeShow('volumes/x\n'), /btrfs subvolume show: no "/);
});

test('subvolume list: id and path per subvolume', () => {
  assert.equal(parseSubvolumeList(fixture('subvolume-list.txt')), [
    { id: 256, path: 'volumes/n1/data' },
    { id: 257, path: 'volumes/n1/cache' },
    { id: 258, path: 'volumes/.snapshots/n1/data/s1' },
    { id: 259, path: 'volumes/.snapshots/n1/data/s2' },
  ]);
  assert.throws(() => parseSubvolumeList('something else\n'), /unexpected/);
});

test('subvolume list -u -q -R: the UUIDs that tie a received incremental snapshot to its parent', () => {
  const [s1, s2] = parseSubvolumeList(fixture('subvolume-list-uuids.txt'));
  assert.equal(s1, {
    id: 256,
    path: 'volumes/.snapshots/n1/data/s1',
    parentUuid: null,
    receivedUuid: '53f0177b-3740-7d44-a137-89c2126e4ff1',
    uuid: '6dde0ed6-db6d-0347-8b2d-32183bef1d14',
  });
  assert.is(s2!.parentUuid, s1!.uuid, 'the incremental s2 was made as a snapshot of the local s1');
  const shown = parseSubvolumeShow(fixture('subvolume-show-received-incremental.txt'));
  assert.is(shown.parentUuid, s1!.uuid, 'subvolume show says the same');
  assert.is(shown.uuid, s2!.uuid);
  assert.throws(() => parseSubvolumeList('ID 1 gen 2 top level 5 colour blue path x\n'), /unexpected/);
});

test('btrfs --version', () => {
  assert.is(parseBtrfsVersion(fixture('btrfs-version.txt')), '6.2');
  assert.throws(() => parseBtrfsVersion('sh: btrfs: not found'), /unexpected/);
});

test('receive failures the agent explains: snapshot already there, parent missing; a short read is left as it is', () => {
  assert.is(receiveFailure(fixture('receive-exists.stderr')), 'exists');
  assert.is(receiveFailure(fixture('receive-no-parent.stderr')), 'missing-parent');
  assert.is(receiveFailure(fixture('receive-short-read.stderr')), null);
});

test('losetup --json: the loop devices backing a file; none is an empty list', () => {
  assert.equal(parseLoopDevices(fixture('losetup-json.txt')), [{ name: '/dev/loop0', backFile: '/var/lib/station/storage/a.img' }]);
  assert.equal(parseLoopDevices(fixture('losetup-json-none.txt')), []);
  assert.equal(parseLoopDevices(''), []);
  assert.throws(() => parseLoopDevices('{"loopdevices":[{"name":1}]}'), /unexpected entry/);
});

test('du -s -B1: bytes', () => {
  assert.is(parseDuBytes(fixture('du.txt')), 10489856);
  assert.throws(() => parseDuBytes('du: cannot access'), /unexpected/);
});

test.run();
