// `station node show`'s orchestrator line, from reports shaped as GET /nodes/:name gives them, the
// cluster views built from `docker node ls` as recorded on the testbed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { clusterView } from '../../../../agent/orchestrator/cluster-health.ts';
import { parseNodeList } from '../../../../agent/orchestrator/swarm/swarm-parse.ts';
import { orchestratorLine } from '../../../../scripts/cli/orchestrator-line.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/docker/${name}`, import.meta.url), 'utf8');
const base = {
  kind: 'swarm' as const,
  cluster: 'home',
  role: 'manager' as const,
  engineVersion: '20.10.24+dfsg1',
  memberRole: 'manager' as const,
  memberId: 'x',
};

test('a member of a healthy cluster: its role, the engine, members, managers reachable and the leader', () => {
  const line = orchestratorLine({ ...base, state: 'member', reason: null, view: clusterView(parseNodeList(fixture('docker-node-ls-healthy.stdout'))) });
  assert.is(line, 'swarm cluster home (manager): a manager, engine 20.10.24+dfsg1; 3 members, 3 of 3 managers reachable, leader dk1; healthy');
});

test('a station lost: degraded, with why and that the quorum holds', () => {
  const line = orchestratorLine({ ...base, state: 'member', reason: null, view: clusterView(parseNodeList(fixture('docker-node-ls-one-down.stdout'))) });
  assert.match(line ?? '', /2 of 3 managers reachable, leader dk2; degraded: dk3 is down .*keeps its quorum/);
});

test('not a member yet: the state and what it waits for; no orchestrator: no line', () => {
  assert.is(
    orchestratorLine({ ...base, state: 'forming', reason: 's1/sw is starting cluster home', memberRole: null, view: null }),
    'swarm cluster home (manager): forming, s1/sw is starting cluster home',
  );
  assert.is(orchestratorLine(null), null);
});

test.run();
