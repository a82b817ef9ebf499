// The etcd gateway's answers as etcd 3.4.23 gave them here (test/fixtures/etcd, recorded with curl
// against a real member), read as the lease code needs them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as gateway from '../../../../../agent/replicas/lease/etcd-gateway.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../fixtures/etcd/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name));

test('a granted lease: its id as etcd wrote it (beyond 2^53: kept as a string) and its TTL', () => {
  const lease = gateway.parseGrant(json('lease-grant.json'));
  assert.is(lease.ttl, 10);
  assert.match(lease.id, /^\d{15,20}$/);
  assert.ok(BigInt(lease.id) > BigInt(Number.MAX_SAFE_INTEGER), 'a Number would have rounded this id');
  assert.throws(() => gateway.parseGrant({ error: 'etcdserver: no leader' }), /granted no lease/);
});

test('create-if-absent: the first one made the key (its revision is the fencing token), the second sees the holder', () => {
  const made = gateway.parseCreate(json('txn-acquired.json'));
  assert.equal(made, { created: true, revision: 7 });
  const held = gateway.parseCreate(json('txn-held.json'));
  assert.is(held.created, false);
  if (held.created) return;
  assert.equal(
    { key: held.holder?.key, value: held.holder?.value, createRevision: held.holder?.createRevision },
    { key: '/station/replicas/web/lease', value: 's1', createRevision: 7 },
  );
  assert.match(held.holder?.lease ?? '', /^\d+$/);
});

test('keep-alive: the TTL left, or null for a lease that is gone (etcd leaves the TTL out)', () => {
  assert.is(gateway.parseKeepAlive(json('keepalive.json')), 10);
  assert.is(gateway.parseKeepAlive(json('keepalive-gone.json')), null);
  assert.throws(() => gateway.parseKeepAlive({ error: 'context deadline exceeded' }), /did not answer/);
});

test('status and members', () => {
  const status = gateway.parseStatus(json('status.json'));
  assert.is(status.version, '3.4.23');
  assert.is(status.leader, status.memberId, 'a single member leads itself');
  const members = gateway.parseMembers(json('member-list.json'));
  assert.equal(
    members.map((m) => [m.name, m.peerUrls]),
    [['a', ['http://127.0.0.1:2380']]],
  );
});

test('a member added as a learner: marked so, without a name until it starts; a promotion too early is an error', () => {
  const added = gateway.parseMemberAdd(json('member-add-learner.json'));
  assert.equal(
    added.members.map((m) => [m.id === added.id, m.name, m.learner]),
    [
      [true, '', true],
      [false, 'a', false],
    ],
  );
  assert.match(gateway.gatewayError(json('promote-not-in-sync.json')) ?? '', /in sync with leader/);
});

test('a watch stream: created, two puts (with the value before), then the delete when the lease expired', () => {
  const lines = fixture('watch-put-put-expire.jsonl').trim().split('\n').map(gateway.parseWatchLine);
  assert.ok(lines[0]!.created);
  const events = lines.flatMap((l) => l.events);
  assert.equal(
    events.map((e) => [e.type, e.key, e.value, e.previous]),
    [
      ['put', '/station/replicas/web/active', 's2', null],
      ['put', '/station/replicas/web/active', 's3', 's2'],
      ['delete', '/station/replicas/web/active', '', 's3'],
    ],
  );
  assert.ok(events[2]!.modRevision > events[1]!.modRevision);
});

test('prefix ranges end where etcd expects', () => {
  assert.is(Buffer.from(gateway.prefixEnd('/station/replicas/'), 'base64').toString(), '/station/replicas0');
  // a key is UTF-8: the end of 'é' (c3 a9) is c3 aa
  assert.equal([...Buffer.from(gateway.prefixEnd('/é'), 'base64')], [0x2f, 0xc3, 0xaa]);
  const watch = gateway.watchRequest('/station/', 42) as { create_request: Record<string, string> };
  assert.is(watch.create_request.start_revision, '42');
  assert.is(Buffer.from(watch.create_request.key!, 'base64').toString(), '/station/');
});

test.run();
