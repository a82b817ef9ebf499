import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerCgroupPath, parseProcCgroup, parseStats, statFiles } from '../../../../../agent/nodes/lxc/cgroup-stats.ts';
import { parseMounts } from '../../../../../hardware/parsers/mounts.ts';
import { fixture } from '../../../../fixtures/lxc/golden.ts';

test('/proc/PID/cgroup of a busybox node on this v1 hybrid host', async () => {
  const lines = parseProcCgroup(await fixture('proc-cgroup-busybox.txt'));
  assert.equal(lines.find((l) => l.controllers.includes('memory'))?.path, '/lxc.payload.stf503cbb');
  assert.equal(lines.find((l) => l.id === '0')?.controllers, []);
});

test('systemd moves its init into init.scope: the node cgroup is cut at lxc.payload.*', async () => {
  const lines = parseProcCgroup(await fixture('proc-cgroup-debian.txt'));
  const pids = lines.find((l) => l.controllers.includes('pids'))!;
  assert.equal(pids.path, '/lxc.payload.stf503cdeb/init.scope');
  assert.equal(containerCgroupPath(pids.path), '/lxc.payload.stf503cdeb');
  assert.equal(containerCgroupPath('/'), '/');
});

test('v1 hybrid host: stats come from cpuacct, memory and pids hierarchies', async () => {
  const files = statFiles(parseMounts(await fixture('proc-mounts-host.txt')), parseProcCgroup(await fixture('proc-cgroup-debian.txt')));
  assert.equal(files, {
    layout: 'v1',
    cpu: '/sys/fs/cgroup/cpuacct/lxc.payload.stf503cdeb/cpuacct.usage',
    memory: '/sys/fs/cgroup/memory/lxc.payload.stf503cdeb/memory.usage_in_bytes',
    memoryLimit: '/sys/fs/cgroup/memory/lxc.payload.stf503cdeb/memory.limit_in_bytes',
    pids: '/sys/fs/cgroup/pids/lxc.payload.stf503cdeb/pids.current',
  });
});

test('v1 values captured from a node limited to 64 MiB', async () => {
  const v = JSON.parse(await fixture('cgroup-v1-busybox.json')) as Record<string, string>;
  const stats = parseStats({
    cpu: v['cpuacct.usage']!,
    memory: v['memory.usage_in_bytes']!,
    memoryLimit: v['memory.limit_in_bytes']!,
    pids: v['pids.current']!,
  });
  assert.equal(stats.memoryLimitBytes, 64 * 1024 * 1024);
  assert.equal(stats.memoryBytes, Number(v['memory.usage_in_bytes']));
  assert.equal(stats.processes, Number(v['pids.current']));
  assert.equal(stats.cpuSeconds, Number(v['cpuacct.usage']) / 1e9);
});

test('v1 "no limit" (a huge number) is reported as null', async () => {
  const stats = parseStats({ cpu: null, memory: '1000\n', memoryLimit: await fixture('cgroup-v1-unlimited-memory.txt'), pids: null });
  assert.equal(stats, { cpuSeconds: 0, memoryBytes: 1000, memoryLimitBytes: null, processes: 0 });
});

// cgroup v2 (not on this host): layout and file formats from the kernel's cgroup-v2 documentation
const V2_MOUNTS = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n';

test('v2 host: one directory with cpu.stat, memory.current, memory.max, pids.current', () => {
  const files = statFiles(parseMounts(V2_MOUNTS), parseProcCgroup('0::/lxc.payload.web/init.scope\n'));
  assert.equal(files, {
    layout: 'v2',
    cpu: '/sys/fs/cgroup/lxc.payload.web/cpu.stat',
    memory: '/sys/fs/cgroup/lxc.payload.web/memory.current',
    memoryLimit: '/sys/fs/cgroup/lxc.payload.web/memory.max',
    pids: '/sys/fs/cgroup/lxc.payload.web/pids.current',
  });
  const stats = parseStats({
    cpu: 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n',
    memory: '4096\n',
    memoryLimit: 'max\n',
    pids: '3\n',
  });
  assert.equal(stats, { cpuSeconds: 2.5, memoryBytes: 4096, memoryLimitBytes: null, processes: 3 });
  assert.equal(parseStats({ cpu: null, memory: null, memoryLimit: '67108864\n', pids: null }).memoryLimitBytes, 67108864);
});

test.run();
