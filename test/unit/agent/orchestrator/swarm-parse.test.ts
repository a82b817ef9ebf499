// Docker's swarm answers as recorded inside debian nodes on the testbed (test/fixtures/docker/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { classifySwarmError, parseEngineVersion, parseJoinToken, parseNodeList, parseSwarmInfo } from '../../../../agent/orchestrator/swarm/swarm-parse.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/docker/${name}`, import.meta.url), 'utf8');

test('a manager of three: active, a manager, the cluster and all three managers', () => {
  const info = parseSwarmInfo(fixture('docker-info-swarm-manager.stdout'));
  assert.equal(
    { state: info.state, manager: info.manager, nodeAddress: info.nodeAddress, clusterId: info.clusterId, error: info.error },
    { state: 'active', manager: true, nodeAddress: '198.19.192.100', clusterId: 'xegk9ar8yihfcom7m1o05fqdg', error: null },
  );
  assert.equal(info.managers, ['198.19.192.100:2377', '198.19.193.24:2377', '198.19.194.201:2377']);
});

test('a worker: active, not a manager, no cluster id (only managers hold it)', () => {
  const info = parseSwarmInfo(fixture('docker-info-swarm-worker.stdout'));
  assert.equal([info.state, info.manager, info.clusterId, info.managers.length], ['active', false, null, 2]);
});

test('not in a swarm; joining (pending) towards a manager that does not answer', () => {
  assert.equal(parseSwarmInfo(fixture('docker-info-swarm-inactive.stdout')), {
    state: 'inactive',
    nodeId: null,
    nodeAddress: null,
    manager: false,
    clusterId: null,
    managers: [],
    error: null,
  });
  const pending = parseSwarmInfo(fixture('docker-info-swarm-join-pending-unreachable.stdout'));
  assert.equal([pending.state, pending.managers], ['pending', ['198.19.193.250:2377']]);
});

test('not JSON, or a state Docker never says: a clear error', () => {
  assert.throws(() => parseSwarmInfo('Cannot connect to the Docker daemon'), /not a JSON object/);
  assert.throws(() => parseSwarmInfo('{"LocalNodeState":"floating"}'), /unknown LocalNodeState "floating"/);
});

test('docker node ls: every member with its state, the leader and who answered', () => {
  const members = parseNodeList(fixture('docker-node-ls-with-worker.stdout'));
  assert.equal(
    members.map((m) => [m.hostname, m.status, m.availability, m.managerStatus, m.self]),
    [
      ['dk1', 'Ready', 'Active', 'Leader', true],
      ['dk2', 'Ready', 'Active', 'Reachable', false],
      ['dk3', 'Ready', 'Active', null, false],
    ],
  );
  assert.is(members[0]!.engineVersion, '20.10.24+dfsg1');
  assert.equal(parseNodeList(''), []);
  assert.throws(() => parseNodeList('{"Hostname":"x"}'), /without ID/);
});

test('the engine version, from the daemon (not the client)', () => {
  assert.is(parseEngineVersion(fixture('docker-version.stdout')), '20.10.24+dfsg1');
  assert.is(parseEngineVersion('{"Client":{"Version":"20.10.24+dfsg1"},"Server":null}'), null);
});

test('a join token is checked for its shape; anything else is refused without echoing it', () => {
  const token = parseJoinToken(fixture('swarm-join-token-manager-q.stdout'));
  assert.match(token, /^SWMTKN-1-/);
  assert.throws(
    () => parseJoinToken('Error response from daemon: This node is not a swarm manager.'),
    (e: Error) => !e.message.includes('daemon'),
  );
});

test("the daemon's errors the agent acts on", () => {
  assert.is(classifySwarmError(fixture('docker-node-ls-on-worker.stderr')), 'not-manager');
  assert.is(classifySwarmError(fixture('docker-node-ls-not-in-swarm.stderr')), 'not-in-swarm');
  assert.is(classifySwarmError(fixture('swarm-join-unreachable-manager.stderr')), 'join-timeout');
  assert.is(classifySwarmError(fixture('swarm-join-malformed-token.stderr')), 'bad-token');
  assert.is(classifySwarmError(fixture('swarm-join-wrong-secret.stderr')), 'bad-token');
  assert.is(classifySwarmError('no space left on device'), 'other');
});

test.run();
