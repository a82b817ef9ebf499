import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { busyboxModuleFiles, debianModuleFiles, debianModuleLinks, shellQuote } from '../../../../../agent/nodes/lxc/modules.ts';
import { fixBusyboxRcS } from '../../../../../agent/nodes/templates/busybox.ts';
import { golden } from '../../../../fixtures/lxc/golden.ts';

// /etc/inittab and rcS as `lxc-create -t busybox` writes them (LXC 5.0.2)
const INITTAB = '::sysinit:/etc/init.d/rcS\ntty1::respawn:/bin/getty -L tty1 115200 vt100\nconsole::askfirst:/bin/sh\n';
const RCS = '#!/bin/sh\n/bin/syslogd\n/bin/mount -a\n/bin/udhcpc\n';

const files = (list: { path: string; content: string }[]) => list.map((f) => `## ${f.path}\n${f.content}`).join('');

test('busybox modules: a wrapper script per module and a respawn line in inittab (golden)', async () => {
  const out = files(
    busyboxModuleFiles(
      [
        { name: 'web', run: 'httpd -f -p 80 -h /www' },
        { name: 'ticker', run: "while true; do echo 'tick'; sleep 5; done" },
      ],
      { GREETING: "it's here", MODE: 'a b' },
      INITTAB,
    ),
  );
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
  const modules = [
    { name: 'web', run: 'python3 -m http.server 80' },
    { name: 'tools', packages: ['curl'] },
    { name: 'cost', run: 'echo "100%" $HOME' },
  ];
  const out = files(debianModuleFiles(modules, { GREETING: 'say "hi" 100%', PRICE: '$5' }));
  assert.fixture(out, await golden('modules-debian.txt', out));
  assert.equal(
    debianModuleLinks(modules).map((l) => l.path),
    ['/etc/systemd/system/multi-user.target.wants/station-module-web.service', '/etc/systemd/system/multi-user.target.wants/station-module-cost.service'],
  );
});

// values that are hard to quote but allowed: every one must reach the module exactly as given
const TRICKY = {
  QUOTES: `it's "here"`,
  BACKSLASH: 'a\\b\\nc',
  PERCENT: '100% %n %%',
  DOLLAR: '$HOME ${PATH} $$',
  TAB: 'a\tb',
  SPACES: '  lead and trail  ',
  UNICODE: 'ünï ✓',
  EMPTY: '',
};

test('an env value with a newline cannot add lines to a unit or a wrapper script', () => {
  const evil = { EVIL: 'x\nExecStartPre=/bin/touch /pwned' };
  assert.throws(() => debianModuleFiles([{ name: 'm', run: 'true' }], evil), /EVIL must not contain control characters/);
  assert.throws(() => busyboxModuleFiles([{ name: 'm', run: 'true' }], evil, INITTAB), /EVIL must not contain control characters/);
  assert.throws(() => debianModuleFiles([{ name: 'm', run: 'true' }], { CR: 'x\ry' }), /control characters/);
});

test('busybox wrapper: every allowed env value reaches the module as given (real sh)', () => {
  const wrapper = busyboxModuleFiles([{ name: 'm', run: 'true' }], TRICKY, INITTAB).find((f) => f.path === '/etc/station/modules/m')!.content;
  const exports = wrapper
    .split('\n')
    .filter((l) => l.startsWith('export '))
    .join('\n');
  const names = Object.keys(TRICKY);
  const out = execFileSync('/bin/sh', ['-c', `${exports}\nprintf '%s\\0' ${names.map((n) => `"$${n}"`).join(' ')}`], { encoding: 'utf8' });
  assert.equal(out.split('\0').slice(0, -1), Object.values(TRICKY));
});

test("debian unit with hard-to-quote env values passes systemd's own parser without a warning", () => {
  const dir = mkdtempSync(join(tmpdir(), 'unit-'));
  try {
    const unit = debianModuleFiles([{ name: 'm', run: 'echo "$QUOTES" 100%' }], TRICKY)[0]!;
    const file = join(dir, basename(unit.path));
    writeFileSync(file, unit.content);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    assert.is(verify.status, 0, verify.stderr);
    assert.is(verify.stderr.trim(), '', verify.stderr);
    assert.is(unit.content.split('\n').filter((l) => l.startsWith('Environment=')).length, Object.keys(TRICKY).length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
