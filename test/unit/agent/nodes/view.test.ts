import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeView } from '../../../../agent/nodes/view.ts';
import { validateSpec } from '../../../../agent/nodes/spec.ts';
import type { NodeRecord } from '../../../../agent/nodes/store.ts';

const record = (over: Partial<NodeRecord> = {}): NodeRecord => ({
  spec: validateSpec({ name: 'web' }),
  address: '198.18.5.9',
  state: 'running',
  deleting: false,
  deleteVolumes: false,
  builtHash: 'h',
  createdAt: 'c',
  updatedAt: 'u',
  ...over,
});
const station = { name: 'home', domain: 'mesh.internal' };

test('a node shows what LXC reports, its address and its name on the mesh', () => {
  const v = nodeView('web', record(), { name: 'web', state: 'stopped', pid: null, partial: false }, null, station);
  assert.is(v.state, 'stopped');
  assert.is(v.desiredState, 'running');
  assert.is(v.address, '198.18.5.9');
  assert.is(v.fqdn, 'web.home.mesh.internal');
  assert.is(v.hostname, 'web');
});

test('no container yet is missing; a node being deleted says so whatever LXC reports; errors are shown', () => {
  assert.is(nodeView('web', record(), undefined, null, station).state, 'missing');
  assert.is(nodeView('web', record({ deleting: true }), { name: 'web', state: 'running', pid: 9, partial: false }, null, station).state, 'deleting');
  assert.is(nodeView('web', record(), undefined, 'lxc-start failed', station).error, 'lxc-start failed');
});

test.run();
