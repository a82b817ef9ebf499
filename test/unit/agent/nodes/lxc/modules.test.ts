import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxModuleFiles, debianModuleFiles, debianModuleLinks, shellQuote } from '../../../../../agent/nodes/lxc/modules.ts';
import { fixBusyboxRcS } from '../../../../../agent/nodes/templates/busybox.ts';
import { golden } from '../../../../fixtures/lxc/golden.ts';

// /etc/inittab and rcS as `lxc-create -t busybox` writes them (LXC 5.0.2)
const INITTAB = '::sysinit:/etc/init.d/rcS\ntty1::respawn:/bin/getty -L tty1 115200 vt100\nconsole::askfirst:/bin/sh\n';
const RCS = '#!/bin/sh\n/bin/syslogd\n/bin/mount -a\n/bin/udhcpc\n';

const files = (list: { path: string; content: string }[]) => list.map((f) => `## ${f.path}\n${f.content}`).join('');

test('busybox modules: a wrapper script per module and a respawn line in inittab (golden)', async () => {
  const out = files(busyboxModuleFiles([{ name: 'web', run: 'httpd -f -p 80 -h /www' }, { name: 'ticker', run: "while true; do echo 'tick'; sleep 5; done" }], { GREETING: "it's here", MODE: 'a b' }, INITTAB));
  assert.fixture(out, await golden('modules-busybox.txt', out));
});

test('rewriting inittab twice gives the same file (no duplicate respawn lines)', () => {
  const first = busyboxModuleFiles([{ name: 'web', run: 'httpd' }], {}, INITTAB).find((f) => f.path === '/etc/inittab')!.content;
  const second = busyboxModuleFiles([{ name: 'web', run: 'httpd' }], {}, first).find((f) => f.path === '/etc/inittab')!.content;
  assert.equal(second, first);
  assert.equal(first.match(/respawn:\/etc\/station/g)?.length, 1);
});

test('busybox refuses package modules (no package manager) and bad names', () => {
  assert.throws(() => busyboxModuleFiles([{ name: 'x', packages: ['curl'] }], {}, INITTAB), /debian template/);
  assert.throws(() => busyboxModuleFiles([{ name: '../x', run: 'true' }], {}, INITTAB), /invalid module name/);
  assert.throws(() => busyboxModuleFiles([{ name: 'x', run: 'true' }], { 'A-B': '1' }, INITTAB), /invalid environment variable/);
  assert.throws(() => busyboxModuleFiles([{ name: 'x', run: 'a\nb' }], {}, INITTAB), /one non-empty line/);
});

test('debian modules: a systemd unit per module with Restart=always and Environment= (golden)', async () => {
  const modules = [{ name: 'web', run: 'python3 -m http.server 80' }, { name: 'tools', packages: ['curl'] }, { name: 'cost', run: 'echo "100%" $HOME' }];
  const out = files(debianModuleFiles(modules, { GREETING: 'say "hi" 100%', PRICE: '$5' }));
  assert.fixture(out, await golden('modules-debian.txt', out));
  assert.equal(debianModuleLinks(modules).map((l) => l.path), ['/etc/systemd/system/multi-user.target.wants/station-module-web.service', '/etc/systemd/system/multi-user.target.wants/station-module-cost.service']);
});

test('shell quoting survives single quotes', () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('busybox rcS: udhcpc is removed so the address LXC set stays', () => {
  const fixed = fixBusyboxRcS(RCS);
  assert.not.match(fixed, /^\/bin\/udhcpc/m);
  assert.match(fixed, /\/bin\/mount -a/);
  assert.equal(fixBusyboxRcS(fixed), fixed);
});

test.run();
