// One Kubernetes member's round (K3s or MicroK8s alike), against an engine double that keeps its state
// in memory and lists members from recorded output (test/fixtures/kube/): installed from the bundle,
// then founded or joined, then watched; what it reports at each step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { NodeView } from '../../../../agent/nodes/view.ts';
import type { KubeEngine } from '../../../../agent/orchestrator/kube/kube-engine.ts';
import { convergeKubeMember, type KubeMemberDeps } from '../../../../agent/orchestrator/kube/kube-member.ts';
import { parseNodeList } from '../../../../agent/orchestrator/kube/kube-parse.ts';
import type { JoinOffer } from '../../../../agent/orchestrator/swarm/swarm-member.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/kube/${name}`, import.meta.url), 'utf8');
const FACTS = { nodeName: 'kmaster', address: '192.168.186.216', apiNames: [] };

function engineDouble(o: { apiAnswers?: boolean } = {}) {
  const did: string[] = [];
  let version: string | null = null;
  let joined: 'manager' | 'worker' | null = null;
  const engine: KubeEngine = {
    kind: 'k3s',
    installedVersion: async () => version,
    install: async (files) => {
      did.push(`install ${files.map((f) => f.name).join(' ')}`);
      version = 'v1.29.4+k3s1';
    },
    joinedAs: async () => joined,
    found: async () => {
      did.push('found');
      joined = 'manager';
    },
    join: async (offer: JoinOffer) => {
      did.push(`join ${offer.role} via ${offer.managers.join(',')}`);
      joined = offer.role;
    },
    ready: async () => true,
    offer: async (role) => ({ token: 't', role, managers: [] }),
    members: async () => {
      if (o.apiAnswers === false) throw new Error('The connection to the server 127.0.0.1:6443 was refused');
      return parseNodeList(fixture('k3s-nodelist-3-nodes.json'));
    },
    leader: async () => 'kmaster',
  };
  return { engine, did };
}

const view = (role = 'auto', state = 'running') =>
  ({ name: 'kube', state, address: '192.168.186.216/24', spec: { orchestrator: { kind: 'k3s', cluster: 'home', role } } }) as unknown as NodeView;

function deps(engine: KubeEngine, o: Partial<KubeMemberDeps> = {}): KubeMemberDeps {
  return {
    engine,
    facts: FACTS,
    bundle: async () => ({ version: 'amd64', id: 'k3s-amd64@2026-12-05T09:00:00.000Z', files: [{ name: 'k3s', open: () => Readable.from([]) }] }),
    failedInstall: { get: () => null, set: () => undefined },
    findOffer: async () => null,
    claimFounder: async () => ({ founder: true }),
    ...o,
  };
}

test('no bundle imported: an error that says how to give one, nothing installed', async () => {
  const { engine, did } = engineDouble();
  const r = await convergeKubeMember(deps(engine, { bundle: async () => null }), view());
  assert.is(r.state, 'error');
  assert.match(r.reason!, /k3s needs an offline bundle: none was imported \(station bundle import FILE\)/);
  assert.equal(did, []);
});

test('the founder: installs from the bundle, starts the cluster, then reports it healthy as its manager', async () => {
  const { engine, did } = engineDouble();
  const first = await convergeKubeMember(deps(engine), view());
  assert.equal(did, ['install k3s', 'found']);
  assert.equal([first.state, first.engineVersion], ['joining', 'v1.29.4+k3s1']);
  const next = await convergeKubeMember(deps(engine), view());
  assert.equal([next.state, next.memberRole, next.memberId], ['member', 'manager', 'kmaster']);
  assert.is(next.view?.health, 'healthy');
  assert.is(next.view?.leader, 'kmaster');
  assert.equal(next.view?.members.length, 3);
  assert.equal(did, ['install k3s', 'found'], 'nothing done again');
});

test('an offer from a control-plane node: joins with its role and never founds', async () => {
  const { engine, did } = engineDouble();
  const offer: JoinOffer = { token: 'K10x::server:y', role: 'worker', managers: ['https://198.19.2.10:6443'] };
  let claimed = false;
  await convergeKubeMember(
    deps(engine, {
      findOffer: async () => offer,
      claimFounder: async () => {
        claimed = true;
        return { founder: true };
      },
    }),
    view(),
  );
  assert.equal(did, ['install k3s', 'join worker via https://198.19.2.10:6443']);
  assert.not.ok(claimed);
  const r = await convergeKubeMember(deps(engine), view());
  assert.equal([r.state, r.memberRole, r.view], ['member', 'worker', null], 'a worker cannot list the cluster');
});

test('another station founds: the node waits, saying who; a worker never founds', async () => {
  const { engine, did } = engineDouble();
  const waiting = await convergeKubeMember(
    deps(engine, { claimFounder: async () => ({ founder: false, reason: 's2/kube is starting cluster home' }) }),
    view(),
  );
  assert.equal([waiting.state, waiting.reason], ['forming', 's2/kube is starting cluster home']);
  const worker = await convergeKubeMember(deps(engine), view('worker'));
  assert.match(worker.reason!, /a worker cannot start it/);
  assert.not.ok(did.includes('found'));
});

test('a manager whose API does not answer reports the cluster without quorum, not an error', async () => {
  const { engine } = engineDouble({ apiAnswers: false });
  await convergeKubeMember(deps(engine), view());
  const r = await convergeKubeMember(deps(engine), view());
  assert.equal([r.state, r.view?.health], ['member', 'no-quorum']);
});

test('a bundle that does not run in the node (another architecture) is installed once, not every round; a new import is tried', async () => {
  const { engine, did } = engineDouble();
  engine.install = async () => void did.push('install');
  let failed: string | null = null;
  const d = deps(engine, { failedInstall: { get: () => failed, set: (id) => void (failed = id) } });
  const first = await convergeKubeMember(d, view());
  assert.equal([first.state, did], ['error', ['install']]);
  assert.match(first.reason!, /k3s amd64 was installed but does not run in the node: import a bundle of this station's architecture/);
  const again = await convergeKubeMember(d, view());
  assert.equal([again.state, did], ['error', ['install']], 'not copied in again');
  const newer = await convergeKubeMember({ ...d, bundle: async () => ({ version: 'amd64', id: 'k3s-amd64@later', files: [] }) }, view());
  assert.equal([newer.state, did], ['error', ['install', 'install']]);
});

test('a stopped node is reported stopped, and nothing runs in it', async () => {
  const { engine, did } = engineDouble();
  const r = await convergeKubeMember(deps(engine), view('auto', 'stopped'));
  assert.equal([r.state, r.reason], ['stopped', 'the node is stopped']);
  assert.equal(did, []);
});

test.run();
