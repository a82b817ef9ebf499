// The confinement every node gets (the real-kernel proof is test/integration/node-escape.test.ts):
// the seccomp policy LXC loads, the capabilities it drops and the devices a busybox node may open.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { droppedCapabilities, renderConfinement, seccompPolicy } from '../../../../../agent/nodes/profiles/confinement.ts';
import type { ProfileName, TemplateName } from '../../../../../agent/nodes/driver.ts';
import type { HostFacts } from '../../../../../agent/nodes/profiles/types.ts';

const V1_HOST: HostFacts = { v1Controllers: ['cpu', 'devices', 'memory'], kernelModules: {} };
const V2_HOST: HostFacts = { v1Controllers: [], kernelModules: {} };
const TEMPLATES: TemplateName[] = ['busybox', 'debian'];
const PROFILES: ProfileName[] = ['plain', 'nesting', 'microk8s'];

/** syscall -> errno, from LXC's policy format ("2", "denylist", options, "[all]", "name errno N"). */
function denied(policy: string): Map<string, number> {
  const lines = policy.trim().split('\n');
  assert.equal(lines.slice(0, 2), ['2', 'denylist']);
  assert.ok(lines.includes('[all]'), policy);
  return new Map(
    lines
      .filter((l) => /^\w+ errno \d+$/.test(l))
      .map((l) => {
        const [call = '', , errno] = l.split(' ');
        return [call, Number(errno)];
      }),
  );
}

for (const profile of PROFILES) {
  test(`${profile}: open_by_handle_at, kexec and module loading are refused with EPERM`, () => {
    const deny = denied(seccompPolicy(profile));
    for (const call of ['open_by_handle_at', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module']) {
      assert.is(deny.get(call), 1, `${profile}: ${call}`);
    }
  });
}

test('plain nodes: no bpf, perf events, kernel log or swap; keyrings look absent (ENOSYS), which runc and LXC accept', () => {
  const deny = denied(seccompPolicy('plain'));
  for (const call of ['bpf', 'perf_event_open', 'syslog', 'swapon', 'swapoff', 'fanotify_init']) assert.is(deny.get(call), 1, call);
  for (const call of ['keyctl', 'add_key', 'request_key']) assert.is(deny.get(call), 38, call);
});

test('nesting and microk8s keep what container engines inside them use: bpf, keyrings, perf', () => {
  for (const profile of ['nesting', 'microk8s'] as const) {
    const deny = denied(seccompPolicy(profile));
    for (const call of ['bpf', 'keyctl', 'perf_event_open']) assert.not.ok(deny.has(call), `${profile} denies ${call}`);
  }
});

test('every node but microk8s loses dac_read_search and the host-wide capabilities; plain nodes cannot mount', () => {
  for (const template of TEMPLATES) {
    for (const profile of ['plain', 'nesting'] as const) {
      const drop = droppedCapabilities(template, profile);
      for (const cap of ['dac_read_search', 'sys_module', 'sys_rawio', 'sys_time', 'mac_admin', 'mac_override', 'linux_immutable', 'syslog', 'audit_control']) {
        assert.ok(drop.includes(cap), `${template}/${profile} keeps ${cap}`);
      }
      assert.is(drop.includes('sys_admin'), profile === 'plain', `${template}/${profile}: sys_admin`);
    }
  }
  assert.ok(droppedCapabilities('busybox', 'plain').includes('mknod'));
  // a nested container engine makes its own /dev
  assert.not.ok(droppedCapabilities('busybox', 'nesting').includes('mknod'));
  assert.not.ok(droppedCapabilities('debian', 'plain').includes('mknod'));
  // the canonical MicroK8s profile keeps every capability (it clears the list itself)
  assert.equal(droppedCapabilities('debian', 'microk8s'), []);
});

test("the config names the node's own policy file and drops in one line, before the profile can clear it", () => {
  for (const template of TEMPLATES) {
    for (const profile of PROFILES) {
      const lines = renderConfinement(template, profile, V1_HOST, '/n/seccomp.policy');
      assert.ok(lines.includes('lxc.seccomp.profile = /n/seccomp.policy'), `${template}/${profile}`);
      assert.is(lines.filter((l) => l.startsWith('lxc.cap.drop')).length, profile === 'microk8s' ? 0 : 1);
    }
  }
});

test("busybox nodes get common.conf's device allowlist in the host's cgroup keys; debian has it from common.conf", () => {
  const v1 = renderConfinement('busybox', 'plain', V1_HOST, '/p');
  assert.ok(v1.includes('lxc.cgroup.devices.deny = a'));
  assert.ok(v1.includes('lxc.cgroup.devices.allow = c 1:3 rwm'));
  assert.not.ok(
    v1.some((l) => /devices\.allow = b .*r/.test(l)),
    'a block device is readable',
  );
  const v2 = renderConfinement('busybox', 'nesting', V2_HOST, '/p');
  assert.ok(v2.includes('lxc.cgroup2.devices.deny = a'));
  assert.not.ok(v2.some((l) => l.startsWith('lxc.cgroup.')));
  assert.not.ok(renderConfinement('debian', 'plain', V1_HOST, '/p').some((l) => l.includes('devices')));
  // microk8s allows every device itself
  assert.not.ok(renderConfinement('busybox', 'microk8s', V1_HOST, '/p').some((l) => l.includes('devices')));
});

test('debian plain nodes get /run, /run/lock and /dev/shm from LXC, since their systemd cannot mount them', () => {
  const lines = renderConfinement('debian', 'plain', V1_HOST, '/p');
  for (const target of ['dev/shm', 'run', 'run/lock']) {
    assert.ok(
      lines.some((l) => l.startsWith(`lxc.mount.entry = tmpfs ${target} tmpfs `)),
      target,
    );
  }
  assert.not.ok(renderConfinement('debian', 'nesting', V1_HOST, '/p').some((l) => l.includes('tmpfs run')));
});

test.run();
