// The authority's membership round: learners first (promoted once started, dropped when their
// station went or they never started), then voters as membership.ts wants them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EtcdMemberInfo } from '../../../../../agent/replicas/lease/etcd-gateway.ts';
import { LEARNER_START_MS, membershipAction, type MemberStation } from '../../../../../agent/replicas/lease/membership-round.ts';

const at = (n: number) => `100.64.0.${n}`;
const member = (id: string, n: number, name: string, learner = false): EtcdMemberInfo => ({
  id,
  name,
  peerUrls: [`http://${at(n)}:2380`],
  clientUrls: name ? [`http://${at(n)}:2379`] : [],
  learner,
});
const stations = (...present: boolean[]): MemberStation[] => present.map((p, i) => ({ name: `s${i + 1}`, address: at(i + 1), present: p }));
const none = new Map<string, number>();

test('one member, three stations present: the next is added (as the caller adds: a learner)', () => {
  assert.equal(membershipAction([member('a', 1, 's1')], stations(true, true, true), none, 0, 's1'), { kind: 'add', station: 's2', address: at(2) });
});

test('a learner that started is promoted; one still starting is waited for; one that never started is removed', () => {
  const started = [member('a', 1, 's1'), member('b', 2, 's2', true)];
  assert.equal(membershipAction(started, stations(true, true, true), none, 0, 's1'), { kind: 'promote', id: 'b', station: 's2' });
  const starting = [member('a', 1, 's1'), member('b', 2, '', true)];
  const since = new Map([['b', 1000]]);
  assert.is(membershipAction(starting, stations(true, true, true), since, 1000 + LEARNER_START_MS - 1, 's1'), null, 'nothing else changes meanwhile');
  assert.equal(membershipAction(starting, stations(true, true, true), since, 1000 + LEARNER_START_MS, 's1'), {
    kind: 'remove',
    id: 'b',
    station: 's2',
    why: `it did not start within ${LEARNER_START_MS / 1000} s`,
  });
  assert.equal(membershipAction(starting, stations(true, false, true), since, 1001, 's1'), {
    kind: 'remove',
    id: 'b',
    station: 's2',
    why: 'its station is gone before it started',
  });
});

test('three voters, one station gone: it is removed first, then a present fourth station added', () => {
  const voters = [member('a', 1, 's1'), member('b', 2, 's2'), member('c', 3, 's3')];
  assert.equal(membershipAction(voters, stations(true, true, false, true), none, 0, 's1'), {
    kind: 'remove',
    id: 'c',
    station: 's3',
    why: 'its station is gone',
  });
  assert.equal(membershipAction(voters.slice(0, 2), stations(true, true, false, true), none, 0, 's1'), { kind: 'add', station: 's4', address: at(4) });
  assert.is(membershipAction(voters, stations(true, true, true, true), none, 0, 's1'), null, 'four present stations keep three members');
});

test('two stations left of three: one member stays (an even count tolerates no more loss), the surplus removed', () => {
  const voters = [member('a', 1, 's1'), member('b', 2, 's2')];
  assert.equal(membershipAction(voters, stations(true, true), none, 0, 's1'), { kind: 'remove', id: 'b', station: 's2', why: 'more members than wanted' });
  assert.equal(
    membershipAction(voters, stations(true, true), none, 0, 's2'),
    { kind: 'remove', id: 'a', station: 's1', why: 'more members than wanted' },
    'the authority running the round keeps its own',
  );
});

test.run();
