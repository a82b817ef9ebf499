import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isContainerInit, monitorName, parseChildren } from '../../../../../agent/nodes/lxc/monitors.ts';
import { fixture } from '../../../../fixtures/lxc/golden.ts';

const captured = async () =>
  JSON.parse(await fixture('proc-monitor.json')) as { lxcPath: string; name: string; init: number; cmdline: string; children: string };

test('a monitor command line names its node when the lxcpath is ours', async () => {
  const m = await captured();
  assert.equal(monitorName(m.cmdline, m.lxcPath), m.name);
});

test("another station's lxcpath, a prefix of ours, or another process is not ours", async () => {
  const m = await captured();
  assert.equal(monitorName(m.cmdline, '/var/lib/station/lxc'), null);
  assert.equal(monitorName(m.cmdline, m.lxcPath.slice(0, -2)), null);
  assert.equal(monitorName('/usr/bin/node\0agent/main.ts\0', m.lxcPath), null);
  assert.equal(monitorName(`[lxc monitor] ${m.lxcPath} a/b\0`, m.lxcPath), null);
});

test("the monitor's child is the container init", async () => {
  const m = await captured();
  assert.equal(parseChildren(m.children), [m.init]);
  assert.equal(parseChildren(''), []);
  assert.ok(isContainerInit(await fixture('proc-cgroup-busybox.txt'), 'stf503cbb'));
  assert.ok(isContainerInit(await fixture('proc-cgroup-debian.txt'), 'stf503cdeb'), 'systemd init in init.scope');
  assert.not.ok(isContainerInit(await fixture('proc-cgroup-debian.txt'), 'stf503c'), 'a name prefix is another node');
  assert.not.ok(isContainerInit('4:memory:/lxc.monitor.stf503cbb\n', 'stf503cbb'), 'the monitor is not init');
});

test.run();
