// Where a node's freezer is, from captured /proc/self/mounts and /proc/PID/cgroup of this host
// (hybrid: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified) and of a pure cgroup2 host, and
// cgroup.events as the kernel writes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { freezerCandidates, parseCgroupEvents } from '../../../../../agent/disk/snapshots/freeze.ts';
import { parseProcCgroup } from '../../../../../agent/nodes/lxc/cgroup-stats.ts';
import { parseMounts } from '../../../../../hardware/parsers/mounts.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../fixtures/lxc/${name}`, import.meta.url), 'utf8');

test('cgroup.events as the kernel writes it', () => {
  assert.equal(parseCgroupEvents('populated 1\nfrozen 1\n'), { populated: true, frozen: true });
  assert.equal(parseCgroupEvents('populated 1\nfrozen 0\n'), { populated: true, frozen: false });
  assert.equal(parseCgroupEvents('populated 0\n'), { populated: false, frozen: false }, 'a kernel without the freezer says nothing of frozen');
});

test('on this hybrid host the v2 cgroup at /sys/fs/cgroup/unified comes first, the v1 freezer second', () => {
  const candidates = freezerCandidates(parseMounts(fixture('proc-mounts-host.txt')), parseProcCgroup(fixture('proc-cgroup-busybox.txt')));
  assert.equal(candidates, [
    { kind: 'v2', dir: '/sys/fs/cgroup/unified/lxc.payload.stf503cbb' },
    { kind: 'v1', dir: '/sys/fs/cgroup/freezer/lxc.payload.stf503cbb' },
  ]);
});

test('on a pure cgroup2 host, a systemd node whose init sits in a child cgroup is frozen as a whole', () => {
  const mounts = parseMounts('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n');
  const candidates = freezerCandidates(mounts, parseProcCgroup('0::/lxc.payload.web/init.scope\n'));
  assert.equal(candidates, [{ kind: 'v2', dir: '/sys/fs/cgroup/lxc.payload.web' }]);
});

test('no cgroup mounts (a process whose /sys was remounted): nothing to freeze with', () => {
  assert.equal(freezerCandidates([], parseProcCgroup(fixture('proc-cgroup-busybox.txt'))), []);
});

test.run();
