import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { assertNodeName, vethName } from '../../../../../agent/nodes/lxc/names.ts';
import { netnsArgv } from '../../../../../agent/nodes/lxc/netns-runner.ts';
import { tailLines } from '../../../../../agent/nodes/lxc/tail.ts';
import { cloneKind } from '../../../../../agent/nodes/lxc/driver.ts';

test('veth names are recognisable, at most 15 characters and distinct for long names', () => {
  assert.equal(vethName('web'), 'v-web');
  assert.equal(vethName('abcdefghijklm'), 'v-abcdefghijklm');
  const a = vethName('kubernetes-node-1');
  const b = vethName('kubernetes-node-2');
  assert.ok(a.length <= 15 && b.length <= 15);
  assert.ok(a.startsWith('v-kuberne'));
  assert.not.equal(a, b);
});

const HASHED = /^[a-z0-9-]{8}-[0-9a-f]{4}$/;

test('no short name can take the veth name of a long one (the two forms cannot overlap)', () => {
  // the hashed form of a long name is v-<8 characters>-<4 hex digits>: 15 characters, like the
  // plain form of a 13-character name that happens to look the same
  const long = 'kubernetes-node-1';
  const hashed = vethName(long);
  assert.match(hashed, /^v-kubernet-[0-9a-f]{4}$/);
  const lookalike = hashed.slice(2);
  assertNodeName(lookalike);
  assert.is(lookalike.length, 13);
  assert.not.equal(vethName(lookalike), hashed, `${lookalike} and ${long} share the veth ${hashed}`);
  assert.ok(vethName(lookalike).length <= 15);
});

test('existing veth names stay: every plain short name and every long name keep theirs', () => {
  // what nodes made before the look-alike fix run with (their LXC config names it)
  assert.equal(vethName('a'), 'v-a');
  assert.equal(vethName('homeassistant'), 'v-homeassistant');
  assert.equal(vethName('web-server-01'), 'v-web-server-01', '13 characters, not of the hashed shape');
  assert.equal(vethName('kubernetes-node-1'), `v-kubernet-${createHash('sha256').update('kubernetes-node-1').digest('hex').slice(0, 4)}`);
});

test('over many similar names, a plain veth name never has the hashed shape, and a hashed one always has', () => {
  const long = Array.from({ length: 300 }, (_, i) => `kubernetes-node-${i}`);
  const names = [
    ...long,
    ...long.map((n) => vethName(n).slice(2)),
    ...Array.from({ length: 300 }, (_, i) => `n${i}`),
    'kubernet-abcd',
    'kubernet-0001',
    'web-server-01',
  ];
  for (const name of names) {
    const veth = vethName(name);
    assert.ok(veth.length <= 15, veth);
    if (veth === `v-${name}`) assert.not.match(name, HASHED, `${name} kept a plain name of the hashed shape`);
    else assert.match(veth.slice(2), HASHED, `${name} -> ${veth}`);
  }
  // two hashed names can still meet (4 hex digits): the driver refuses the second node (driver-create.test.ts)
});

test('node names must be DNS labels', () => {
  assertNodeName('web-1');
  for (const bad of ['', 'Web', '-x', 'x-', 'a_b', 'a.b', '../x', 'a'.repeat(64)]) assert.throws(() => assertNodeName(bad), /invalid node name/);
});

test('netns runner enters only the network namespace and remounts sysfs plus cgroups', () => {
  const argv = netnsArgv('st01ns', ['lxc-ls', '-P', '/x']);
  assert.equal(argv.slice(0, 2), ['nsenter', '--net=/run/netns/st01ns']);
  assert.equal(argv.slice(-3), ['lxc-ls', '-P', '/x']);
  assert.match(argv.join(' '), /mount -t sysfs sysfs \/sys/);
  assert.throws(() => netnsArgv('../x', ['true']), /invalid network namespace/);
});

test('tail keeps the last lines', () => {
  assert.equal(tailLines('a\nb\nc\n', 2), 'b\nc');
  assert.equal(tailLines('', 5), '');
  assert.equal(tailLines('a\n', 0), '');
});

test('overlay clones for plain nodes, full copies where nested runtimes run', () => {
  assert.equal(cloneKind('plain'), 'overlay');
  assert.equal(cloneKind('nesting'), 'copy');
  assert.equal(cloneKind('microk8s'), 'copy');
});

test.run();
