// What an orchestrated node's policy gains: its engine's ports to and from the owner's stations, both
// ways (its own policy denies the rest), and the cluster's alias for the node that claims it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateSpec } from '../../../../agent/nodes/spec.ts';
import { clusterAliasClaimers, withClusterPorts } from '../../../../agent/orchestrator/orchestrator-policy.ts';

const spec = (kind: string, name = 'n', role = 'auto') =>
  validateSpec({ name, template: 'debian', profile: 'microk8s', orchestrator: { kind, cluster: 'home', role } });
const ports = (policy: ReturnType<typeof withClusterPorts>, proto: string) =>
  (policy?.ingress ?? []).filter((r) => r.proto === proto).flatMap((r) => (r as { ports: number[] }).ports);

test("each engine's documented ports, in from and out to the owner's stations", () => {
  const k3s = withClusterPorts(spec('k3s'), undefined, { owner: 'alice', claimsAlias: false });
  assert.equal(ports(k3s, 'tcp'), [6443, 2379, 2380, 10250]);
  assert.equal(ports(k3s, 'udp'), [8472]);
  assert.ok(k3s?.ingress?.every((r) => r.from === 'owner:alice'));
  assert.ok(k3s?.egress?.every((r) => r.to === 'owner:alice'));
  const microk8s = withClusterPorts(spec('microk8s'), undefined, { owner: 'alice', claimsAlias: false });
  assert.equal(ports(microk8s, 'tcp'), [16443, 25000, 19001, 10250]);
  assert.equal(ports(microk8s, 'udp'), [4789]);
  const swarm = withClusterPorts(spec('swarm'), undefined, { owner: 'alice', claimsAlias: false });
  assert.equal(ports(swarm, 'tcp'), [2377, 7946, 5000], "with the cluster's registry");
});

test("the node's own rules stay first; the claimer gets the cluster's alias; in no mesh nothing changes", () => {
  const own = { ingress: [{ from: 'lan', proto: 'tcp', ports: [80] }] } as never;
  const policy = withClusterPorts(spec('k3s'), own, { owner: 'alice', claimsAlias: true });
  assert.equal(policy?.ingress?.[0], { from: 'lan', proto: 'tcp', ports: [80] });
  assert.equal(policy?.aliases, ['home']);
  assert.is(withClusterPorts(spec('k3s'), own, { owner: null, claimsAlias: true }), own);
  assert.equal([...clusterAliasClaimers([spec('k3s', 'b'), spec('k3s', 'a'), spec('k3s', 'w', 'worker')])], ['a']);
});

test.run();
