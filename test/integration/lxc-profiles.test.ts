// The nesting and microk8s profiles on real LXC: a nesting node runs an LXC container inside
// itself; a microk8s node starts and carries the profile's keys (checked in its config and from
// inside: all devices, no capabilities dropped, /dev/kmsg, /sys/fs/bpf, writable cgroups).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupAll } from '../helpers/cleanup.ts';
import { lxcHarness, waitFor, type LxcHarness } from '../fixtures/lxc/harness.ts';

let h: LxcHarness;

test.before(async () => {
  h = await lxcHarness('lxp', 43);
  await h.driver.ensureTemplate('debian', (line) => console.log(`  ${line}`));
});
test.after(async () => {
  await cleanupAll();
});

test('a nesting node starts an LXC container inside itself', async () => {
  const build = h.build('nest', 30, {
    template: 'debian',
    profile: 'nesting',
    modules: [{ name: 'lxc', packages: ['lxc', 'busybox-static'] }],
  });
  const t0 = Date.now();
  await h.driver.create(build, (line) => console.log(`  ${line}`));
  console.log(`nesting node created (full copy + lxc packages) in ${Date.now() - t0} ms`);
  await h.driver.start(build.name);
  const sh = (script: string) => h.driver.exec(build.name, ['sh', '-c', script], { timeoutMs: 60_000 });
  // the nested container has no network of its own: this test is about cgroups and namespaces
  const made = await sh('printf "lxc.net.0.type = empty\\n" > /tmp/inner.conf && lxc-create -n inner -t busybox -f /tmp/inner.conf');
  assert.equal(made.exitCode, 0, made.stderr);
  const started = await sh('lxc-start -n inner -d -l INFO -o /tmp/inner.log; rc=$?; [ $rc -eq 0 ] || tail -20 /tmp/inner.log; exit $rc');
  assert.equal(started.exitCode, 0, `${started.stdout}${started.stderr}`);
  const state = await waitFor('nested container running', async () => {
    const info = await sh('lxc-info -n inner -s -H');
    return info.stdout.trim() === 'RUNNING' ? info.stdout.trim() : null;
  });
  assert.equal(state, 'RUNNING');
  const inner = await sh('lxc-attach -n inner -- cat /proc/1/cmdline');
  assert.match(inner.stdout, /init/);
  await sh('lxc-stop -n inner -k; lxc-destroy -n inner');
  await h.driver.destroy(build.name);
});

test('a microk8s node starts and carries the profile keys', async () => {
  const build = h.build('mk8s', 31, { template: 'debian', profile: 'microk8s' });
  const progress: string[] = [];
  await h.driver.create(build, (line) => progress.push(line));
  const config = await readFile(join(h.lxcPath, build.name, 'config'), 'utf8');
  for (const key of [
    'lxc.start.auto = 1',
    'lxc.include = /usr/share/lxc/config/nesting.conf',
    'lxc.apparmor.profile = unconfined',
    'lxc.mount.auto = proc:rw sys:rw cgroup:rw:force',
    'lxc.cap.drop =\n',
    'lxc.mount.entry = /dev/kmsg dev/kmsg',
    'lxc.mount.entry = /sys/fs/bpf sys/fs/bpf',
    'nf_conntrack/parameters/hashsize',
    'nf_conntrack_max',
  ])
    assert.ok(config.includes(key), `config lacks ${JSON.stringify(key)}`);
  assert.match(config, /lxc\.cgroup2?\.devices\.allow = a/);
  // this kernel has no IPVS: reported, not fatal
  const missing = progress.find((l) => /kernel modules missing/.test(l));
  console.log(`  ${missing ?? 'no kernel modules missing'}`);
  await h.driver.start(build.name);
  assert.equal((await h.driver.inspect(build.name))?.state, 'running');
  const sh = async (script: string) => (await h.driver.exec(build.name, ['sh', '-c', script])).stdout.trim();
  assert.equal(await sh('grep CapBnd /proc/1/status | cut -f2'), (await readFile('/proc/self/status', 'utf8')).match(/CapBnd:\s+(\S+)/)![1]);
  assert.equal(await sh('test -c /dev/kmsg && echo yes'), 'yes');
  assert.equal((await sh('grep -c " /sys/fs/bpf " /proc/self/mounts || true')) !== '0', true);
  assert.match(await sh('grep " /sys/fs/cgroup" /proc/self/mounts | head -3'), /\brw\b/);
  // all devices allowed: a device node outside the default allow list can be made and opened
  assert.equal(await sh('mknod /tmp/loopctl c 10 237 && head -c0 /tmp/loopctl && echo ok'), 'ok');
  await h.driver.destroy(build.name);
});

test.run();
