import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { debFileName, parseAptSimulation, parseAptUnknownPackages } from '../../../../../agent/nodes/lxc/parse-apt.ts';
import { fixture } from '../../../../fixtures/lxc/golden.ts';

test('apt-get -s: every package to install, with version and architecture', async () => {
  const planned = parseAptSimulation(await fixture('apt-simulate-lxc.txt'));
  const names = planned.map((p) => p.name);
  assert.ok(names.includes('lxc') && names.includes('busybox-static') && names.includes('liblxc1'), names.join(' '));
  for (const p of planned) {
    assert.match(p.version, /^[0-9]/);
    assert.match(p.arch, /^(amd64|all|arm64|armhf)$/);
  }
  // one Inst line per package
  assert.equal(planned.length, (await fixture('apt-simulate-lxc.txt')).split('\n').filter((l) => l.startsWith('Inst ')).length);
});

test('.deb file names encode the epoch colon the way apt writes them', () => {
  assert.equal(debFileName({ name: 'lxc', version: '1:5.0.2-1+deb12u2', arch: 'amd64' }), 'lxc_1%3a5.0.2-1+deb12u2_amd64.deb');
  assert.equal(debFileName({ name: 'netbase', version: '6.4', arch: 'all' }), 'netbase_6.4_all.deb');
});

test('unknown packages are named from apt errors', async () => {
  assert.equal(parseAptUnknownPackages(await fixture('apt-unknown-package.stderr.txt')), ['no-such-package-station']);
  assert.equal(parseAptUnknownPackages("E: Package 'foo' has no installation candidate\n"), ['foo']);
  assert.equal(parseAptUnknownPackages('E: something else'), []);
});

test.run();
