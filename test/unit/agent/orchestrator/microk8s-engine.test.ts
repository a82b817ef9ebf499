// MicroK8s inside a node, against a double of the node's shell, snapd and `microk8s` answering with
// output recorded from public records (test/fixtures/kube/): the offline install in order, refreshes
// held, kube-proxy's conntrack setting, and add-node/join with a token of the agent's own making.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Microk8sEngine, refreshHoldUntil, snapInstallSteps } from '../../../../agent/orchestrator/kube/microk8s-engine.ts';
import { fail, fileAnswers, nodeDouble, ok } from '../../../helpers/node-double.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/kube/${name}`, import.meta.url), 'utf8');
const FACTS = { nodeName: 'mk.s1', address: '10.23.209.1', apiNames: [] };
const BUNDLE = ['microk8s_6089.snap', 'microk8s_6089.assert', 'core20_2015.snap', 'core20_2015.assert'];
const RECORDED_TOKEN = '92b2db237428470dc4fcfc4ebbd9dc81';

function microk8sNode(o: { snapd257?: boolean } = {}) {
  const files = new Map<string, string>();
  const fileOps = fileAnswers(files);
  let installed = false;
  const node = nodeDouble((line, call) => {
    const file = fileOps(line, call);
    if (file) return file;
    if (line === '/snap/bin/microk8s version') return installed ? ok(fixture('microk8s-version-1.28.txt')) : fail('sh: /snap/bin/microk8s: not found', 127);
    if (line.startsWith('snap install') && line.includes('microk8s_')) installed = true;
    if (line.startsWith('snap install')) return ok(fixture('snap-install-local-core20.txt'));
    if (line === 'snap refresh --hold microk8s') return o.snapd257 ? fail("error: unknown flag `hold'") : ok(fixture('snap-refresh-hold.txt'));
    if (line.startsWith('snap ') || line.startsWith('sh -c grep')) return ok();
    if (line.startsWith('/snap/bin/microk8s status --wait-ready')) return ok(fixture('microk8s-status-ha-no-single.txt'));
    if (line.startsWith('/snap/bin/microk8s add-node --token ')) {
      // the recorded output, printing the token this call asked for (as MicroK8s does)
      const token = line.split(' ')[3]!;
      return ok(fixture('microk8s-add-node-docs-multi-ip.txt').replaceAll(RECORDED_TOKEN, token));
    }
    if (line.startsWith('/snap/bin/microk8s join 192.168.1.230')) return fail(fixture('microk8s-join-fail-invalid-token.txt'));
    if (line.startsWith('/snap/bin/microk8s join')) return ok(fixture('microk8s-join-success-1.30.txt'));
    if (line.includes('kubectl get nodes')) return ok(fixture('k3s-nodelist-3-nodes.json'));
    // the recorded status of a cluster of one, its voter's address swapped for the NodeList's server
    if (line === '/snap/bin/microk8s status') return ok(fixture('microk8s-status-ha-no-two-nodes.txt').replace('10.223.255.75', '192.168.186.216'));
    return fail(`unexpected: ${line}`);
  });
  return { ...node, files, engine: new Microk8sEngine(node.exec, 'mk') };
}

const sources = (names: string[]) => names.map((name) => ({ name, open: () => Readable.from([Buffer.from(name)]) }));

test('offline install: every file copied in, each assertion acked before its snap, core20 first, MicroK8s classic', async () => {
  const n = microk8sNode();
  assert.is(await n.engine.installedVersion(), null);
  await n.engine.install(sources(BUNDLE));
  const lines = n.lines().slice(1); // after the version asked for above
  assert.equal(lines.slice(4, 9), [
    'snap wait system seed.loaded',
    'snap ack /var/lib/station/bundle/core20_2015.assert',
    'snap install /var/lib/station/bundle/core20_2015.snap',
    'snap ack /var/lib/station/bundle/microk8s_6089.assert',
    'snap install /var/lib/station/bundle/microk8s_6089.snap --classic',
  ]);
  assert.equal([...n.files.keys()].sort(), BUNDLE.map((f) => `/var/lib/station/bundle/${f}`).sort());
  assert.is(lines[9], 'snap refresh --hold microk8s');
  assert.not.ok(
    lines.some((l) => l.startsWith('snap set system refresh.hold')),
    'snapd 2.58+ holds the snap itself',
  );
  assert.match(lines.at(-1)!, /--conntrack-max-per-core=0.*snap restart microk8s.daemon-kubelite/);
  assert.is(await n.engine.installedVersion(), 'v1.28.3 (revision 6089)');
});

test("Debian 12's snapd (2.57) has no `refresh --hold`: refreshes are held system-wide until a date instead", async () => {
  const n = microk8sNode({ snapd257: true });
  await n.engine.install(sources(BUNDLE));
  const hold = n.lines().find((l) => l.startsWith('snap set system refresh.hold='));
  assert.ok(hold, 'held through the system setting');
  assert.is(refreshHoldUntil(new Date('2026-12-05T08:00:00.123Z')), '2027-02-02T08:00:00Z', '59 days: snapd before 2.58 refuses more than 60');
});

test('a bundle without both snaps is refused before anything runs', () => {
  assert.throws(() => snapInstallSteps(['microk8s_6089.snap', 'microk8s_6089.assert']), /lacks its microk8s or core20 snap/);
});

test("an offer: a fresh 32-character token of the agent's, the join target of this node's address, the token a secret", async () => {
  const n = microk8sNode();
  const offer = await n.engine.offer('worker', FACTS);
  const call = n.calls.find((c) => c.command.startsWith('/snap/bin/microk8s add-node'))!;
  const token = call.command.split(' ')[3]!;
  assert.match(token, /^[0-9a-f]{32}$/);
  assert.match(call.command, /--token-ttl 600$/);
  assert.equal(call.secrets, [token]);
  assert.equal(offer, { token: `${token}/2c0cb3284b05`, role: 'worker', managers: ['10.23.209.1:25000'] });
  const again = await n.engine.offer('worker', FACTS);
  assert.is.not(again.token, offer.token, 'each offer has its own token');
});

test('join: through each control-plane node in turn until one takes it; a worker says --worker', async () => {
  const n = microk8sNode();
  const token = 'aaaabbbbccccddddeeeeffff00001111/2c0cb3284b05';
  await n.engine.join({ token, role: 'worker', managers: ['192.168.1.230:25000', '10.23.209.1:25000'] }, FACTS);
  const joins = n.calls.filter((c) => c.command.startsWith('/snap/bin/microk8s join'));
  assert.equal(
    joins.map((c) => c.command),
    [`/snap/bin/microk8s join 192.168.1.230:25000/${token} --worker`, `/snap/bin/microk8s join 10.23.209.1:25000/${token} --worker`],
  );
  assert.ok(joins.every((c) => c.secrets.includes(token)));
  assert.is(await n.engine.joinedAs(), 'worker');
});

test('join refused everywhere: the error names each node and what it said', async () => {
  const n = microk8sNode();
  const error = await n.engine.join({ token: 't/h', role: 'manager', managers: ['192.168.1.230:25000'] }, FACTS).then(
    () => null,
    (e: Error) => e.message,
  );
  assert.match(error ?? '', /failed through every control-plane node: 192.168.1.230:25000: Connection failed. Invalid token \(500\)/);
  assert.is(await n.engine.joinedAs(), null, 'not noted as joined');
});

test("members: MicroK8s labels no roles, so its managers are the datastore's voters", async () => {
  const n = microk8sNode();
  const members = await n.engine.members();
  assert.equal(
    members.filter((m) => m.controlPlane).map((m) => m.name),
    ['kmaster'],
  );
});

test('a node that never clustered lists itself as 127.0.0.1: alone, it is the manager', async () => {
  const one = JSON.parse(fixture('k3s-nodelist-3-nodes.json'));
  one.items = one.items.slice(0, 1);
  const n = nodeDouble((line) => {
    if (line.includes('kubectl get nodes')) return ok(JSON.stringify(one));
    if (line === '/snap/bin/microk8s status') return ok(fixture('microk8s-status-ha-no-single.txt'));
    return fail(`unexpected: ${line}`);
  });
  const members = await new Microk8sEngine(n.exec, 'mk').members();
  assert.equal(
    members.map((m) => [m.name, m.controlPlane]),
    [['kworker1', true]],
  );
});

test.run();
