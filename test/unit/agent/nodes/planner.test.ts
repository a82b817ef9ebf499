import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { plan, planNode, unmanaged, type DesiredNode } from '../../../../agent/nodes/planner.ts';
import type { ObservedNode, NodeState } from '../../../../agent/nodes/driver.ts';

const want = (name: string, over: Partial<DesiredNode> = {}): DesiredNode => ({
  name,
  state: 'running',
  deleting: false,
  buildHash: 'h1',
  builtHash: 'h1',
  ...over,
});
const seen = (name: string, state: NodeState, partial = false): ObservedNode => ({
  name,
  state,
  pid: state === 'running' ? 100 : null,
  partial,
});
const ops = (steps: { op: string }[]) => steps.map((s) => s.op);

test('a missing node is created and started; a stopped-desired one only created', () => {
  assert.equal(ops(planNode(want('a', { builtHash: null }), undefined)), ['create', 'start']);
  assert.equal(ops(planNode(want('a', { state: 'stopped' }), undefined)), ['create']);
});

test("a node deleted behind the agent's back is made again", () => {
  assert.equal(ops(planNode(want('a'), undefined)), ['create', 'start']);
});

test('a running node that should run needs nothing (adoption never restarts)', () => {
  assert.equal(planNode(want('a'), seen('a', 'running')), []);
  assert.equal(planNode(want('a', { builtHash: null }), seen('a', 'running')), [], 'unknown build is adopted as is');
});

test('stopped behind the back is started; running when it should be stopped is stopped', () => {
  assert.equal(ops(planNode(want('a'), seen('a', 'stopped'))), ['start']);
  assert.equal(ops(planNode(want('a', { state: 'stopped' }), seen('a', 'running'))), ['stop']);
  assert.equal(planNode(want('a', { state: 'stopped' }), seen('a', 'stopped')), []);
});

test('a half-made node is destroyed and made again', () => {
  assert.equal(ops(planNode(want('a', { builtHash: null }), seen('a', 'stopped', true))), ['destroyPartial', 'create', 'start']);
  assert.equal(ops(planNode(want('a', { state: 'stopped' }), seen('a', 'stopped', true))), ['destroyPartial', 'create']);
});

test('a changed build recreates the node, keeping its desired state', () => {
  assert.equal(planNode(want('a', { buildHash: 'h2' }), seen('a', 'running')), [{ op: 'recreate', name: 'a', start: true, reason: 'spec changed' }]);
  assert.equal(planNode(want('a', { buildHash: 'h2', state: 'stopped' }), seen('a', 'stopped')), [
    { op: 'recreate', name: 'a', start: false, reason: 'spec changed' },
  ]);
});

test('deleting destroys then forgets; an already gone node is only forgotten', () => {
  assert.equal(ops(planNode(want('a', { deleting: true }), seen('a', 'running'))), ['destroy', 'forget']);
  assert.equal(ops(planNode(want('a', { deleting: true }), undefined)), ['forget']);
  assert.equal(ops(planNode(want('a', { deleting: true }), seen('a', 'stopped', true))), ['destroy', 'forget']);
});

test('nodes mid-transition and frozen or unknown nodes are left for the next pass', () => {
  for (const state of ['starting', 'stopping', 'frozen', 'unknown'] as NodeState[]) {
    assert.equal(planNode(want('a'), seen('a', state)), [], state);
    assert.equal(planNode(want('a', { state: 'stopped' }), seen('a', state)), [], state);
  }
  assert.equal(planNode(want('a', { buildHash: 'h2' }), seen('a', 'starting')), [], 'no recreate while starting');
});

test('containers without a spec: whole ones are never touched, half-made ones are removed', () => {
  assert.equal(planNode(undefined, seen('mine', 'running')), []);
  assert.equal(ops(planNode(undefined, seen('debris', 'stopped', true))), ['destroyPartial']);
  assert.equal(unmanaged([want('a')], [seen('a', 'running'), seen('mine', 'running'), seen('debris', 'stopped', true)]), ['mine']);
});

test('plan groups steps per node and is empty once observed matches desired (idempotent)', () => {
  const desired = [want('a'), want('b', { state: 'stopped' }), want('c')];
  const before = plan(desired, [seen('a', 'stopped'), seen('b', 'stopped'), seen('x', 'running')]);
  assert.equal([...before.keys()].sort(), ['a', 'c']);
  assert.equal(ops(before.get('a')!), ['start']);
  assert.equal(ops(before.get('c')!), ['create', 'start']);
  const after = plan(desired, [seen('a', 'running'), seen('b', 'stopped'), seen('c', 'running'), seen('x', 'running')]);
  assert.is(after.size, 0);
  assert.equal(plan(desired, [seen('a', 'running'), seen('b', 'stopped'), seen('c', 'running')]), after, 'same input, same (empty) plan');
});

test.run();
