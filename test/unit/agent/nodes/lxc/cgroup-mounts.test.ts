import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planCgroupMounts } from '../../../../../agent/nodes/lxc/cgroup-mounts.ts';
import { parseMounts } from '../../../../../hardware/parsers/mounts.ts';
import { fixture } from '../../../../fixtures/lxc/golden.ts';

// what a process under `ip netns exec` sees: /sys remounted, nothing under /sys/fs/cgroup
const hidden = (host: string) =>
  parseMounts(
    host
      .split('\n')
      .filter((l) => !l.includes('/sys/fs/cgroup'))
      .join('\n'),
  );

test('cgroups visible: nothing to do', async () => {
  const host = parseMounts(await fixture('proc-mounts-host.txt'));
  assert.equal(planCgroupMounts(host, host, true), { state: 'present', mounts: [] });
});

test('hidden by ip netns exec in a private mount namespace: the host hierarchies are mounted again, tmpfs first', async () => {
  const text = await fixture('proc-mounts-host.txt');
  const plan = planCgroupMounts(hidden(text), parseMounts(text), false);
  assert.equal(plan.state, 'restorable');
  assert.equal(plan.mounts[0]?.type, 'tmpfs');
  assert.equal(plan.mounts[0]?.target, '/sys/fs/cgroup');
  assert.ok(plan.mounts.some((m) => m.target === '/sys/fs/cgroup/memory' && m.type === 'cgroup'));
  assert.ok(plan.mounts.some((m) => m.type === 'cgroup2'));
});

test("never mounts in PID 1's mount namespace, nor when the host has no cgroups either", async () => {
  const text = await fixture('proc-mounts-host.txt');
  assert.equal(planCgroupMounts(hidden(text), parseMounts(text), true).state, 'missing');
  assert.equal(planCgroupMounts(hidden(text), hidden(text), false).state, 'missing');
  assert.equal(planCgroupMounts(hidden(text), null, false).state, 'missing');
});

test.run();
