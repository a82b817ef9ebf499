import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseMounts, cgroupLayout } from '../../../../hardware/parsers/mounts.ts';

const hybrid = readFileSync(new URL('../../../fixtures/host/mounts-cgroup-v1-hybrid.txt', import.meta.url), 'utf8');

test('the build machine is cgroup v1 with a v2 unified mount (hybrid)', () => {
  const layout = cgroupLayout(parseMounts(hybrid));
  assert.is(layout.version, 'hybrid');
  assert.ok(layout.v1Controllers.includes('memory'));
  assert.ok(layout.v1Controllers.includes('cpu'));
  assert.is(layout.v2Mount, '/sys/fs/cgroup/unified');
});

test('a pure v2 host and a host without cgroups', () => {
  // The v2 line is the real unified line from the fixture, moved to /sys/fs/cgroup as on Debian 12 with systemd.
  const v2 = hybrid
    .split('\n')
    .find((l) => l.startsWith('cgroup2 '))!
    .replace('/sys/fs/cgroup/unified', '/sys/fs/cgroup');
  assert.equal(cgroupLayout(parseMounts(`${v2}\n`)), { version: 'v2', v1Controllers: [], v2Mount: '/sys/fs/cgroup' });
  assert.is(cgroupLayout(parseMounts('proc /proc proc rw 0 0\n')).version, 'none');
});

test('escaped characters in mount points are decoded', () => {
  const [entry] = parseMounts('/dev/sda1 /media/my\\040disk ext4 rw,relatime 0 0\n');
  assert.is(entry!.target, '/media/my disk');
});

test.run();
