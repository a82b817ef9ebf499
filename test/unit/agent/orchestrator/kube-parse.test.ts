// What K3s, MicroK8s and kubectl print, read: on output recorded from public records
// (test/fixtures/kube/README.md names each source), since neither engine can be downloaded here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { judgeCluster } from '../../../../agent/orchestrator/cluster-health.ts';
import {
  kubeMemberViews,
  parseAddNode,
  parseK3sVersion,
  parseLeaseHolder,
  parseMicrok8sStatus,
  parseMicrok8sVersion,
  parseNodeList,
} from '../../../../agent/orchestrator/kube/kube-parse.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/kube/${name}`, import.meta.url), 'utf8');

test('a K3s NodeList: one server (control-plane, master labels) and two agents, all Ready', () => {
  const nodes = parseNodeList(fixture('k3s-nodelist-3-nodes.json'));
  assert.equal(
    nodes.map((n) => [n.name, n.controlPlane, n.ready, n.kubeletVersion, n.internalIp]),
    [
      ['kworker1', false, 'True', 'v1.29.4+k3s1', '192.168.186.217'],
      ['kworker2', false, 'True', 'v1.29.4+k3s1', '192.168.186.218'],
      ['kmaster', true, 'True', 'v1.29.4+k3s1', '192.168.186.216'],
    ],
  );
  assert.ok(nodes.every((n) => /^[0-9a-f-]{36}$/.test(n.uid)));
});

test('the cluster judged from a NodeList: healthy; a NotReady server makes it lose its quorum of one', () => {
  const text = fixture('k3s-nodelist-3-nodes.json');
  const healthy = judgeCluster(kubeMemberViews(parseNodeList(text), 'kmaster'));
  assert.is(healthy.health, 'healthy');
  assert.is(healthy.leader, 'kmaster');
  assert.equal(healthy.managers, { total: 1, reachable: 1, quorum: true });
  const list = JSON.parse(text);
  const server = list.items.find((n: { metadata: { name: string } }) => n.metadata.name === 'kmaster');
  server.status.conditions.find((c: { type: string }) => c.type === 'Ready').status = 'Unknown';
  const lost = judgeCluster(kubeMemberViews(parseNodeList(JSON.stringify(list)), null));
  assert.is(lost.health, 'no-quorum');
  assert.match(lost.reason!, /kmaster is unknown/);
});

test('a NodeList that is not one, or not JSON, is a clear error', () => {
  assert.throws(() => parseNodeList('error: You must be logged in to the server (Unauthorized)'), /not JSON: error: You must be logged in/);
  assert.throws(() => parseNodeList(fixture('lease-kube-controller-manager.json')), /a Lease object, not a list/);
});

test('the leader lease names its node (holderIdentity NODE_UUID); nobody holding it is null', () => {
  assert.is(parseLeaseHolder(fixture('lease-kube-controller-manager.json')), 'kmaster');
  assert.is(parseLeaseHolder('{"kind":"Lease","spec":{}}'), null);
});

test('versions: k3s --version and microk8s version', () => {
  assert.is(parseK3sVersion(fixture('k3s-version-dev-build.txt')), 'v1.19.4+k3s-95ea0e16');
  assert.is(parseMicrok8sVersion(fixture('microk8s-version-1.28.txt')), 'v1.28.3 (revision 6089)');
  assert.is(parseMicrok8sVersion('MicroK8s v1.31.1 revision: 7234\n  - K8s: v1.31.1'), 'v1.31.1 (revision 7234)', 'later releases add a colon');
  assert.is(parseK3sVersion('sh: 1: /usr/local/bin/k3s: not found'), null);
  assert.is(parseMicrok8sVersion(''), null);
});

test('microk8s add-node: each address once (the --worker line adds none), token and hash apart', () => {
  assert.equal(parseAddNode(fixture('microk8s-add-node-1.31.txt')), [
    { address: '10.54.53.229:25000', token: '0c7f86c53691b2d01abba161b69ee7c1', hash: 'ca5f25c53b42' },
  ]);
  assert.equal(
    parseAddNode(fixture('microk8s-add-node-docs-multi-ip.txt')).map((t) => t.address),
    ['192.168.1.230:25000', '10.23.209.1:25000', '172.17.0.1:25000'],
  );
  assert.equal(parseAddNode(fixture('microk8s-add-node-1.21-no-worker-line.txt')).length, 1, 'older releases indent the line');
  assert.equal(parseAddNode(fixture('microk8s-status-not-running.txt')), []);
});

test('microk8s status: running, its voters and standbys by address; not running says so', () => {
  assert.equal(parseMicrok8sStatus(fixture('microk8s-status-ha-yes-standby.txt')), {
    running: true,
    ha: true,
    voters: ['192.168.1.172', '192.168.1.199', '192.168.1.38'],
    standby: ['192.168.1.11'],
  });
  const three = parseMicrok8sStatus(fixture('microk8s-status-ha-yes-three-nodes-no-standby-line.txt'));
  assert.equal([three.voters.length, three.standby], [3, []]);
  assert.equal(parseMicrok8sStatus(fixture('microk8s-status-ha-no-two-nodes.txt')), { running: true, ha: false, voters: ['10.223.255.75'], standby: [] });
  assert.equal(parseMicrok8sStatus(fixture('microk8s-status-not-running.txt')), { running: false, ha: null, voters: [], standby: [] });
});

test.run();
