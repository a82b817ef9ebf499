import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderLimits, renderProfile, MICROK8S_MODULES } from '../../../../../agent/nodes/profiles/render.ts';
import type { HostFacts } from '../../../../../agent/nodes/profiles/types.ts';
import { golden } from '../../../../fixtures/lxc/golden.ts';

// this host: cgroup v1 hybrid, no IPVS in the kernel
const V1_HOST: HostFacts = {
  v1Controllers: ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'],
  kernelModules: {
    ...Object.fromEntries(MICROK8S_MODULES.map((m) => [m, 'built-in'])),
    ip_vs: 'missing',
    ip_vs_rr: 'missing',
    ip_vs_wrr: 'missing',
    ip_vs_sh: 'missing',
  },
};
// a kernel built without overlayfs
const NO_OVERLAY_HOST: HostFacts = { ...V1_HOST, kernelModules: { ...V1_HOST.kernelModules, overlay: 'missing' } };
const V2_HOST: HostFacts = { v1Controllers: [], kernelModules: Object.fromEntries(MICROK8S_MODULES.map((m) => [m, 'loadable'])) };

const text = (lines: string[]) => `${lines.join('\n')}\n`;

for (const profile of ['plain', 'nesting', 'microk8s'] as const) {
  test(`${profile} profile on a cgroup v1 host matches its golden file`, async () => {
    const rendered = text(renderProfile(profile, V1_HOST).lines);
    assert.fixture(rendered, await golden(`profile-${profile}-v1.conf`, rendered));
  });
}

test('microk8s on a cgroup v2 host allows all devices through cgroup2 keys', async () => {
  const rendered = text(renderProfile('microk8s', V2_HOST).lines);
  assert.fixture(rendered, await golden('profile-microk8s-v2.conf', rendered));
  assert.ok(rendered.includes('lxc.cgroup2.devices.allow = a'));
  assert.not.ok(rendered.includes('lxc.cgroup.devices'));
});

test('microk8s asks for no ip_vs module (kube-proxy runs on iptables): a host without IPVS gets no warning', () => {
  assert.equal(renderProfile('microk8s', V1_HOST).warnings, []);
  assert.not.ok(MICROK8S_MODULES.some((m) => m.startsWith('ip_vs')));
  assert.ok(renderProfile('microk8s', V1_HOST).lines.some((l) => l.startsWith('# left out: ip_vs ')));
});

test('microk8s reports the kernel modules this host lacks, without failing', () => {
  const { warnings } = renderProfile('microk8s', NO_OVERLAY_HOST);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /missing on this host.*: overlay$/);
  assert.equal(renderProfile('microk8s', V2_HOST).warnings, []);
  assert.equal(renderProfile('plain', V1_HOST).warnings, []);
});

test('nesting mounts cgroups rw:force (nested LXC and dockerd need it on v1 hosts) after clearing the template flags', () => {
  const lines = renderProfile('nesting', V1_HOST).lines;
  const clear = lines.indexOf('lxc.mount.auto =');
  assert.ok(clear >= 0 && lines.indexOf('lxc.mount.auto = proc:mixed sys:mixed cgroup:rw:force') > clear);
  assert.ok(lines.includes('lxc.include = /usr/share/lxc/config/nesting.conf'));
});

test('an unknown profile is an error', () => {
  assert.throws(() => renderProfile('fancy' as never, V1_HOST), /unknown profile/);
});

test('limits: v1 keys on v1 controllers, cgroup2 keys otherwise', () => {
  assert.equal(renderLimits({ cpus: 1.5, memoryMB: 256 }, V1_HOST), [
    'lxc.cgroup.cpu.cfs_period_us = 100000',
    'lxc.cgroup.cpu.cfs_quota_us = 150000',
    'lxc.cgroup.memory.limit_in_bytes = 268435456',
  ]);
  assert.equal(renderLimits({ cpus: 0.25, memoryMB: 64 }, V2_HOST), ['lxc.cgroup2.cpu.max = 25000 100000', 'lxc.cgroup2.memory.max = 67108864']);
  assert.equal(renderLimits({}, V1_HOST), []);
  assert.equal(renderLimits({ processes: 512 }, V1_HOST), ['lxc.cgroup.pids.max = 512']);
  assert.equal(renderLimits({ processes: 512 }, V2_HOST), ['lxc.cgroup2.pids.max = 512']);
  assert.throws(() => renderLimits({ processes: 0 }, V1_HOST), /processes must be a positive whole number/);
  assert.throws(() => renderLimits({ memoryMB: -1 }, V1_HOST), /memoryMB must be positive/);
  assert.throws(() => renderLimits({ cpus: 0 }, V1_HOST), /cpus must be positive/);
});

test.run();
