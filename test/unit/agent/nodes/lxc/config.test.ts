import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderContainerConfig, type ContainerPaths } from '../../../../../agent/nodes/lxc/config.ts';
import type { NodeBuild } from '../../../../../agent/nodes/driver.ts';
import type { HostFacts } from '../../../../../agent/nodes/profiles/types.ts';
import { golden } from '../../../../fixtures/lxc/golden.ts';

const HOST: HostFacts = { v1Controllers: ['cpu', 'cpuacct', 'devices', 'memory', 'pids'], kernelModules: {} };
const build: NodeBuild = {
  name: 'web',
  hostname: 'web',
  template: 'busybox',
  profile: 'plain',
  cpus: 0.5,
  memoryMB: 64,
  processes: 512,
  autostart: true,
  network: { bridge: 'stbr0', address: '198.18.5.10/24', gateway: '198.18.5.1', dns: ['198.18.5.1'] },
  volumes: [
    { name: 'data', source: '/var/lib/station/volumes/web/data', path: '/data' },
    { name: 'conf', source: '/var/lib/station/volumes/web/conf', path: '/etc/app', readOnly: true },
  ],
  env: {},
  modules: [],
};
const dir = '/var/lib/station/lxc/web';
const overlay: ContainerPaths = {
  dir,
  rootfs: { kind: 'overlay', lower: '/var/cache/station/templates/busybox/rootfs', upper: `${dir}/delta0` },
  logDir: `${dir}/logs`,
  consoleLog: `${dir}/console.log`,
};

test('busybox node config (overlay clone, static address, volumes, limits) matches its golden file', async () => {
  const { text } = renderContainerConfig(build, overlay, HOST);
  assert.fixture(text, await golden('config-busybox-plain.conf', text));
});

test('debian microk8s node config (full copy) matches its golden file', async () => {
  const { text, warnings } = renderContainerConfig(
    { ...build, name: 'k8s-node-with-a-long-name', hostname: 'k8s', template: 'debian', profile: 'microk8s', volumes: [] },
    { ...overlay, rootfs: { kind: 'dir', path: `${dir}/rootfs` } },
    HOST,
  );
  assert.fixture(text, await golden('config-debian-microk8s.conf', text));
  assert.match(warnings.join('\n'), /availability unknown/);
});

test('the network is static: LXC sets address and gateway, the veth has a recognisable name', () => {
  const { text } = renderContainerConfig(build, overlay, HOST);
  assert.ok(text.includes('lxc.net.0.ipv4.address = 198.18.5.10/24\n'));
  assert.ok(text.includes('lxc.net.0.ipv4.gateway = 198.18.5.1\n'));
  assert.ok(text.includes('lxc.net.0.veth.pair = v-web\n'));
  assert.ok(text.includes('lxc.net.0.link = stbr0\n'));
  assert.not.ok(text.includes('lxc.net.0.mtu'), "the bridge's MTU unless the build asks for another");
  const small = renderContainerConfig({ ...build, network: { ...build.network, mtu: 1300 } }, overlay, HOST).text;
  assert.ok(small.includes('lxc.net.0.mtu = 1300\n'));
});

test('every node names its own seccomp policy, which refuses open_by_handle_at (the "shocker" escape)', () => {
  for (const template of ['busybox', 'debian'] as const) {
    for (const profile of ['plain', 'nesting', 'microk8s'] as const) {
      const { text, seccomp } = renderContainerConfig({ ...build, template, profile }, overlay, HOST);
      // the last seccomp line wins in LXC: it must be ours, after debian's common.conf include
      assert.equal(
        text
          .split('\n')
          .filter((l) => l.startsWith('lxc.seccomp.profile'))
          .pop(),
        `lxc.seccomp.profile = ${dir}/seccomp.policy`,
      );
      assert.match(seccomp, /^open_by_handle_at errno 1$/m);
    }
  }
});

test('volume paths with .. or whitespace are refused', () => {
  assert.throws(() => renderContainerConfig({ ...build, volumes: [{ name: 'x', source: '/v', path: '/data/../etc' }] }, overlay, HOST), /without '\.\.'/);
  assert.throws(() => renderContainerConfig({ ...build, volumes: [{ name: 'x', source: '/v w', path: '/data' }] }, overlay, HOST), /whitespace/);
  assert.throws(() => renderContainerConfig({ ...build, volumes: [{ name: 'x', source: '/v', path: 'data' }] }, overlay, HOST), /absolute/);
});

test.run();
