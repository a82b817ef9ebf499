import { test } from 'uvu';
import * as assert from 'uvu/assert';
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
