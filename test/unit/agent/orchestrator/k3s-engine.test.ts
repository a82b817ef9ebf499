// K3s inside a node, against a double of the node's shell and of `k3s` answering with output recorded
// from public records (test/fixtures/kube/): the files the agent writes and the commands it runs, in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { K3sEngine, k3sConfig } from '../../../../agent/orchestrator/kube/k3s-engine.ts';
import { fail, fileAnswers, nodeDouble, ok } from '../../../helpers/node-double.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/kube/${name}`, import.meta.url), 'utf8');
const FACTS = { nodeName: 'kube.s1', address: '198.19.1.10', apiNames: ['home.alice.mesh.internal'] };
const TOKEN = 'K10d3a1c5e9f8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1::server:5f0c2e9d4b7a';

function k3sNode() {
  const files = new Map<string, string>();
  const fileOps = fileAnswers(files);
  const node = nodeDouble((line, call) => {
    const file = fileOps(line, call);
    if (file) return file;
    if (line === '/usr/local/bin/k3s --version')
      return files.has('/usr/local/bin/k3s') ? ok(fixture('k3s-version-dev-build.txt')) : fail('sh: /usr/local/bin/k3s: not found', 127);
    if (line.startsWith('systemctl')) return ok(line.includes('is-active') ? 'active\n' : '');
    if (line.includes('kubectl get nodes')) return ok(fixture('k3s-nodelist-3-nodes.json'));
    if (line.includes('kubectl get lease')) return ok(fixture('lease-kube-controller-manager.json'));
    if (line.includes('kubectl get --raw /readyz')) return ok('ok');
    return fail(`unexpected: ${line}`);
  });
  return { ...node, files, engine: new K3sEngine(node.exec, 'kube') };
}

const source = (name: string, content: string) => ({ name, open: () => Readable.from([Buffer.from(content)]) });

test("install: the images tarball into K3s's images directory first, then the binary (its presence means installed)", async () => {
  const n = k3sNode();
  assert.is(await n.engine.installedVersion(), null);
  await n.engine.install([source('k3s', '\x7fELF k3s'), source('k3s-airgap-images-amd64.tar.zst', 'images')]);
  assert.equal([...n.files.keys()], ['/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst', '/usr/local/bin/k3s']);
  assert.is(n.files.get('/usr/local/bin/k3s'), '\x7fELF k3s');
  assert.match(n.calls[1]!.command, /chmod 0644/);
  assert.match(n.calls[2]!.command, /chmod 0755/);
  assert.is(await n.engine.installedVersion(), 'v1.19.4+k3s-95ea0e16');
  const missing = await n.engine.install([source('k3s', 'x')]).then(
    () => null,
    (e: Error) => e.message,
  );
  assert.match(missing ?? '', /lacks its binary or its images/);
});

test('the founder: a server with cluster-init, its address and the alias in its certificate, conntrack left alone', async () => {
  const n = k3sNode();
  assert.is(await n.engine.joinedAs(), null);
  await n.engine.found(FACTS);
  const config = n.files.get('/etc/rancher/k3s/config.yaml')!;
  for (const line of [
    'cluster-init: true',
    'node-name: "kube.s1"',
    'node-ip: "198.19.1.10"',
    'advertise-address: "198.19.1.10"',
    '  - "home.alice.mesh.internal"',
    '  - "conntrack-max-per-core=0"',
  ])
    assert.ok(config.split('\n').includes(line), `config has ${line}`);
  assert.not.ok(config.includes('token'));
  assert.match(n.files.get('/etc/systemd/system/k3s.service')!, /^ExecStart=\/usr\/local\/bin\/k3s server$/m);
  assert.equal(n.lines().slice(-3, -1), ['systemctl daemon-reload', 'systemctl enable --now --no-block k3s.service']);
  assert.is(await n.engine.joinedAs(), 'manager');
});

test('a worker joins as an agent through the first server; the token only in the 0600 config, as a secret', async () => {
  const n = k3sNode();
  await n.engine.join({ token: TOKEN, role: 'worker', managers: ['https://198.19.2.10:6443', 'https://198.19.3.10:6443'] }, FACTS);
  const config = n.files.get('/etc/rancher/k3s/config.yaml')!;
  assert.ok(config.includes('server: "https://198.19.2.10:6443"'));
  assert.ok(config.includes(`token: "${TOKEN}"`));
  assert.not.ok(config.includes('tls-san'), 'an agent serves no API');
  assert.not.ok(config.includes('cluster-init'));
  assert.match(n.files.get('/etc/systemd/system/k3s.service')!, /^ExecStart=\/usr\/local\/bin\/k3s agent$/m);
  const writing = n.calls.find((c) => c.command.includes('/etc/rancher/k3s/config.yaml'))!;
  assert.equal(writing.secrets, [TOKEN]);
  assert.match(writing.command, /umask 077/);
  assert.ok(
    n.calls.every((c) => !c.command.includes(TOKEN)),
    'never on a command line',
  );
  assert.is(await n.engine.joinedAs(), 'worker');
  assert.is(await n.engine.ready(), true, 'an agent is ready when its service runs');
});

test('a server offers its token and its API address; it lists the cluster and its leader', async () => {
  const n = k3sNode();
  n.files.set('/var/lib/rancher/k3s/server/token', `${TOKEN}\n`);
  assert.equal(await n.engine.offer('manager', FACTS), { token: TOKEN, role: 'manager', managers: ['https://198.19.1.10:6443'] });
  assert.equal(
    (await n.engine.members()).map((m) => m.name),
    ['kworker1', 'kworker2', 'kmaster'],
  );
  assert.is(await n.engine.leader(), 'kmaster');
});

test('k3sConfig: a joining server carries tls-san and server, never cluster-init', () => {
  const config = k3sConfig(FACTS, { server: 'https://198.19.2.10:6443', token: 't', role: 'manager' });
  assert.ok(config.includes('tls-san:'));
  assert.ok(config.includes('server: "https://198.19.2.10:6443"'));
  assert.not.ok(config.includes('cluster-init'));
});

test.run();
