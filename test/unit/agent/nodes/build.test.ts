import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toBuild, buildHash } from '../../../../agent/nodes/build.ts';
import { DEFAULT_NODE_PROCESSES, validateSpec, applyPatch } from '../../../../agent/nodes/spec.ts';
import { parseSubnet } from '../../../../agent/nodes/ipam.ts';
import { DirVolumeDriver } from '../../../../agent/storage/dir-driver.ts';

const context = {
  subnet: parseSubnet('198.18.5.0/24'),
  bridge: 'stbr0',
  storage: new DirVolumeDriver({ root: '/var/lib/station/volumes' }),
};

test('a build carries the address, gateway, DNS, hostname and volume sources', () => {
  const spec = validateSpec({ name: 'web', volumes: [{ name: 'data', path: '/srv' }], resources: { memoryMB: 64 } });
  const build = toBuild(spec, '198.18.5.9', context);
  assert.equal(build.network, { bridge: 'stbr0', address: '198.18.5.9/24', gateway: '198.18.5.1', dns: ['198.18.5.1'] });
  assert.is(build.hostname, 'web');
  assert.equal(build.volumes, [{ name: 'data', source: '/var/lib/station/volumes/web/data', path: '/srv' }]);
  assert.is(build.memoryMB, 64);
  assert.is(build.cpus, undefined);
});

test("a Kubernetes node's eth0 fits inside the mesh (its overlay sizes itself from it); MicroK8s gets snapd", () => {
  const node = (kind: string) =>
    toBuild(validateSpec({ name: 'k', template: 'debian', profile: 'microk8s', orchestrator: { kind, cluster: 'home' } }), '198.18.5.9', context);
  assert.is(node('k3s').network.mtu, 1300);
  assert.is(node('microk8s').network.mtu, 1300);
  assert.is(node('swarm').network.mtu, undefined, "Docker's overlay takes its MTU as an option");
  assert.equal(
    node('microk8s').modules.map((m) => m.packages),
    [['snapd', 'squashfuse']],
  );
  assert.equal(node('k3s').modules, [], 'K3s is one binary from the bundle');
});

test('the build hash changes with what the container is made of, not with labels, autostart or policy', () => {
  const spec = validateSpec({ name: 'web', labels: { room: 'a' } });
  const h = buildHash(toBuild(spec, '198.18.5.9', context));
  assert.is(buildHash(toBuild(validateSpec({ name: 'web', labels: { room: 'a' } }), '198.18.5.9', context)), h, 'stable');
  assert.is(buildHash(toBuild(applyPatch(spec, { labels: { room: 'b' } }), '198.18.5.9', context)), h);
  assert.is(buildHash(toBuild(applyPatch(spec, { autostart: false }), '198.18.5.9', context)), h);
  assert.is(buildHash(toBuild(applyPatch(spec, { network: { ingress: [{ from: 'lan' }] } }), '198.18.5.9', context)), h);
  assert.is.not(buildHash(toBuild(applyPatch(spec, { resources: { memoryMB: 128 } }), '198.18.5.9', context)), h);
  assert.is.not(buildHash(toBuild(spec, '198.18.5.10', context)), h);
  assert.is.not(buildHash(toBuild(applyPatch(spec, { env: { A: '1' } }), '198.18.5.9', context)), h);
  assert.is.not(buildHash(toBuild(applyPatch(spec, { resources: { processes: 256 } }), '198.18.5.9', context)), h);
});

test('every node gets a process limit; the default one leaves the hash of nodes made before it alone', () => {
  const spec = validateSpec({ name: 'web' });
  const build = toBuild(spec, '198.18.5.9', context);
  assert.is(build.processes, DEFAULT_NODE_PROCESSES);
  const { processes: _default, ...before } = build; // a build as an agent without the limit made it
  assert.is(buildHash(before as typeof build), buildHash(build), 'nodes made earlier are not recreated by the update');
  assert.is(toBuild(validateSpec({ name: 'web', resources: { processes: 300 } }), '198.18.5.9', context).processes, 300);
  assert.throws(() => validateSpec({ name: 'web', resources: { processes: 3 } }), /processes/);
});

test.run();
