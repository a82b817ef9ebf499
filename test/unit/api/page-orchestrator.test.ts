// The status page's orchestrator line (api/web/orchestrator.js), run as the browser runs it (node:vm,
// a classic script): what a node's card says from its `orchestrator` in GET /api/v1/nodes, with
// cluster views built from `docker node ls` as recorded on the testbed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createContext, runInContext } from 'node:vm';
import { clusterView } from '../../../agent/orchestrator/cluster-health.ts';
import { parseNodeList } from '../../../agent/orchestrator/swarm/swarm-parse.ts';

const context = createContext({});
runInContext(readFileSync(new URL('../../../api/web/orchestrator.js', import.meta.url), 'utf8'), context, { filename: 'orchestrator.js' });
const look = (report: unknown) => JSON.parse(JSON.stringify((context as { orchestratorLook: (r: unknown) => unknown }).orchestratorLook(report)));
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/docker/${name}`, import.meta.url), 'utf8');
const member = (file: string) => ({
  kind: 'swarm',
  cluster: 'home',
  role: 'manager',
  state: 'member',
  reason: null,
  memberRole: 'manager',
  view: clusterView(parseNodeList(fixture(file))),
});

test('a healthy cluster: green, members, managers reachable and the leader', () => {
  assert.equal(look(member('docker-node-ls-healthy.stdout')), { level: 'ok', pill: 'healthy', detail: '3 members · 3 of 3 managers · leader dk1' });
});

test('a station lost: amber, with what is down and that the quorum holds', () => {
  const l = look(member('docker-node-ls-one-down.stdout'));
  assert.equal([l.level, l.pill], ['degraded', 'degraded']);
  assert.match(l.detail, /2 of 3 managers · leader dk2 · dk3 is down .*keeps its quorum/);
});

test('no quorum: red; not a member yet: its state and why; an error: red; no report yet: says so', () => {
  const noQuorum = {
    ...member('docker-node-ls-healthy.stdout'),
    view: { health: 'no-quorum', reason: 'no leader', leader: null, managers: { total: 3, reachable: 1, quorum: false }, members: [] },
  };
  assert.equal(look(noQuorum).level, 'error');
  assert.equal(look({ kind: 'swarm', cluster: 'home', role: 'manager', state: 'joining', reason: 'joining through 198.19.192.100:2377' }), {
    level: 'degraded',
    pill: 'joining',
    detail: 'joining through 198.19.192.100:2377',
  });
  assert.equal(look({ kind: 'k3s', cluster: 'home', role: 'manager', state: 'error', reason: 'k3s needs an offline bundle' }).level, 'error');
  assert.equal(look(null), { level: 'degraded', pill: 'no status yet', detail: '' });
});

test.run();
