// Policies may name what does not exist yet (issue 11, "Also"): node:a in b's ingress before a
// exists is accepted and reported as a dangling reference; the compiled ruleset has no element for
// a until a appears, and then admits it. A reference that is not even a node name is still a 400.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { compileRuleset } from '../../../../agent/network/compile-nft.ts';
import { danglingNodeReferences, validatePolicies } from '../../../../agent/network/validate.ts';
import { NetworkSubsystem, type NodeNetworkInput } from '../../../../agent/network/network-subsystem.ts';
import { EventBus } from '../../../../agent/events.ts';
import { ValidationError } from '../../../../agent/errors.ts';
import type { Config } from '../../../../agent/config/schema.ts';
import type { NodeNetwork, StationNetworkFacts } from '../../../../agent/network/types.ts';

const facts: StationNetworkFacts = {
  bridge: 'stbr0',
  nodeSubnet: '10.134.0.0/24',
  gateway: '10.134.0.1',
  lanInterfaces: ['eth0'],
  lanSubnets: ['192.168.1.0/24'],
  meshSubnets: [],
};
const b: NodeNetwork = { name: 'b', address: '10.134.0.11', policy: { ingress: [{ from: 'node:a', ports: [5432] }] } };
const a: NodeNetwork = { name: 'a', address: '10.134.0.10', policy: { egress: [{ to: 'node:b', ports: [5432] }] } };

const ingressOfB = (nodes: NodeNetwork[]): string => {
  const text = compileRuleset({ facts, nodes }).text;
  return text.slice(text.indexOf('\tchain in.b {'), text.indexOf('\t}', text.indexOf('\tchain in.b {')));
};

test('b may name node:a before a exists: accepted, and reported as dangling', () => {
  const policies = validatePolicies({ b: b.policy }, { reservedPorts: [8088, 53] });
  assert.equal(policies.b, b.policy);
  assert.equal(danglingNodeReferences(b.policy, ['b']), ['node:a']);
  assert.equal(danglingNodeReferences(b.policy, ['a', 'b']), []);
  assert.equal(
    danglingNodeReferences({ egress: [{ to: 'node:x' }, { to: 'node:x', ports: [1] }, { to: 'lan' }, { to: 'node:far.s2' }], ingress: [{ from: 'node:c' }] }, [
      'far.s2',
    ]),
    ['node:c', 'node:x'],
  );
});

test('the ruleset has no element for a until a exists, then admits exactly a', () => {
  const before = ingressOfB([b]);
  assert.match(before, '# from node:a: no known address yet');
  assert.not.match(before, /ip saddr/);
  const after = ingressOfB([a, b]);
  assert.match(after, /ip saddr 10\.134\.0\.10 meta l4proto tcp th dport 5432 counter name n\.b\.in\.0 accept/);
});

test('a reference that is not a node name is still refused (400)', () => {
  for (const bad of ['node:A_1', 'node:', 'node:-x', 'node:a..b']) {
    try {
      validatePolicies({ b: { ingress: [{ from: bad }] } });
      assert.unreachable(`accepted ${bad}`);
    } catch (error) {
      assert.instance(error, ValidationError);
      assert.match((error as Error).message, /not a valid node name/);
    }
  }
});

/** The subsystem as the node service sees it, not started (no engine runs): the nodes it has and the mesh. */
function subsystem(nodes: NodeNetworkInput[]): NetworkSubsystem {
  const config = {
    stateDir: '/nonexistent',
    bridge: 'stbr0',
    nodeSubnet: '10.134.0.0/24',
    name: 's1',
    domain: 'mesh.internal',
    httpPort: 8088,
  } as Config;
  const run = (): never => {
    throw new Error('no program runs in this test');
  };
  return new NetworkSubsystem({
    config,
    run,
    events: new EventBus(),
    log: pino({ level: 'silent' }),
    nodes: { nodeInputs: () => nodes, nodeSubnet: () => config.nodeSubnet },
  });
}

test('the node service may create b (ingress from node:a) before a, and sees which references dangle', () => {
  const nodes: NodeNetworkInput[] = [];
  const net = subsystem(nodes);
  net.validateCandidate('b', b.policy);
  assert.equal(net.danglingReferences('b', b.policy, ['b']), ['node:a']);
  nodes.push({ name: 'b', address: b.address, policy: b.policy });
  net.validateCandidate('a', a.policy);
  assert.equal(net.danglingReferences('b', b.policy, ['a', 'b']), []);
  assert.equal(net.danglingReferences('a', a.policy, ['a', 'b']), []);
  assert.throws(() => net.validateCandidate('c', { egress: [{ to: 'node:Not_A_Name' }] }), /not a valid node name/);
});

test('a node of another station counts once the mesh names it (NAME.STATION, or NAME while unambiguous)', () => {
  const net = subsystem([]);
  const policy = { egress: [{ to: 'node:db' }, { to: 'node:db.s2' }] };
  assert.equal(net.danglingReferences('web', policy, ['web']), ['node:db', 'node:db.s2']);
  net.aliases.setRemoteRecords('s2', [{ name: 'db.s2.mesh.internal', address: '10.2.0.6', node: 'db', kind: 'node', since: 1 }], 'alice');
  assert.equal(net.danglingReferences('web', policy, ['web']), []);
});

test.run();
