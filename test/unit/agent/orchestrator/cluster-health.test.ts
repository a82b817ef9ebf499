// A cluster's health from `docker node ls` as recorded on the testbed (test/fixtures/docker/):
// all Ready, one station removed, and too few managers left.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { clusterView, noQuorumView } from '../../../../agent/orchestrator/cluster-health.ts';
import { parseNodeList, parseSwarmInfo } from '../../../../agent/orchestrator/swarm/swarm-parse.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/docker/${name}`, import.meta.url), 'utf8');

test('three Ready managers: healthy, the leader named, the quorum held', () => {
  const view = clusterView(parseNodeList(fixture('docker-node-ls-healthy.stdout')));
  assert.equal([view.health, view.reason, view.leader], ['healthy', null, 'dk1']);
  assert.equal(view.managers, { total: 3, reachable: 3, quorum: true });
  assert.equal(
    view.members.map((m) => [m.hostname, m.role, m.state, m.reachable]),
    [
      ['dk1', 'manager', 'ready', true],
      ['dk2', 'manager', 'ready', true],
      ['dk3', 'manager', 'ready', true],
    ],
  );
});

test('one station removed: degraded, the lost manager named, and the quorum kept (2 of 3)', () => {
  const view = clusterView(parseNodeList(fixture('docker-node-ls-one-down.stdout')));
  assert.is(view.health, 'degraded');
  assert.equal(view.managers, { total: 3, reachable: 2, quorum: true });
  assert.is(view.leader, 'dk2', 'a new leader was elected');
  assert.match(view.reason ?? '', /dk3 is down .*2 of 3 managers reachable: the cluster keeps its quorum/);
});

test('a worker is no manager: it counts as a member, not towards the quorum', () => {
  const view = clusterView(parseNodeList(fixture('docker-node-ls-with-worker.stdout')));
  assert.equal([view.health, view.managers], ['healthy', { total: 2, reachable: 2, quorum: true }]);
  assert.equal(view.members.find((m) => m.hostname === 'dk3')?.role, 'worker');
});

test("two stations removed: the engine's own words say there is no leader; no quorum", () => {
  const info = parseSwarmInfo(fixture('docker-info-swarm-quorum-lost.stdout'));
  assert.equal([info.state, info.manager], ['active', true]);
  assert.match(info.error ?? '', /does not have a leader/);
  const view = noQuorumView(info.error!);
  assert.equal([view.health, view.managers.quorum], ['no-quorum', false]);
  assert.match(fixture('docker-node-ls-quorum-lost.stderr'), /does not have a leader/);
});

test.run();
