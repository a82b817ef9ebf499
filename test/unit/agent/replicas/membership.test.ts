import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseMemberAdd } from '../../../../agent/replicas/lease/etcd-gateway.ts';
import { joiningCluster, memberCount, nextChange, wantedMembers } from '../../../../agent/replicas/lease/membership.ts';

const stations = (online: string[], offline: string[] = []) => [
  ...online.map((name) => ({ name, online: true })),
  ...offline.map((name) => ({ name, online: false })),
];

test('odd member counts: 1 for one or two stations, 3 for three or four, 5 from five', () => {
  assert.equal([0, 1, 2, 3, 4, 5, 9].map(memberCount), [0, 1, 1, 3, 3, 5, 5]);
});

test('members stay while online; newcomers online-first, then by name; every station computes the same', () => {
  assert.equal(wantedMembers(stations(['s4', 's2', 's3', 's1']), []), ['s1', 's2', 's3']);
  assert.equal(wantedMembers(stations(['s4', 's2', 's3', 's1']), ['s4']), ['s1', 's2', 's4'], 's4 stays');
  assert.equal(wantedMembers(stations(['s1', 's2', 's4'], ['s3']), ['s1', 's2', 's3']), ['s1', 's2', 's4'], 'offline s3 replaced');
  assert.equal(wantedMembers(stations(['s1', 's2'], ['s3']), ['s1', 's2', 's3']), ['s1'], 'two left online: one member');
});

test('one change at a time: the gone member out first, then newcomers in, then surplus out', () => {
  const online = new Set(['s1', 's2', 's4']);
  assert.equal(nextChange(['s1', 's2', 's3'], ['s1', 's2', 's4'], online), { remove: 's3' });
  assert.equal(nextChange(['s1', 's2'], ['s1', 's2', 's4'], online), { add: 's4' });
  assert.equal(nextChange(['s1', 's2', 's4', 's5'], ['s1', 's2', 's4'], new Set([...online, 's5'])), { remove: 's5' });
  assert.is(nextChange(['s1', 's2', 's4'], ['s1', 's2', 's4'], online), null);
});

test('a joining member names everyone: from the list etcd gave when it was added (recorded)', () => {
  const added = parseMemberAdd(JSON.parse(readFileSync(new URL('../../../fixtures/etcd/member-add.json', import.meta.url), 'utf8')));
  assert.match(added.id, /^\d+$/);
  assert.equal(joiningCluster(added.members, 'b', 'http://127.0.0.2:2380'), { b: 'http://127.0.0.2:2380', a: 'http://127.0.0.1:2380' });
  assert.throws(() => joiningCluster(added.members, 'c', 'http://127.0.0.3:2380'), /has not started yet/);
});

test.run();
