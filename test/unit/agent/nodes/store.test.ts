import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyBoot, toDesired, type NodeRecord, type NodesState } from '../../../../agent/nodes/store.ts';
import { KeyedSerialQueue } from '../../../../agent/lib/serial-queue.ts';
import { validateSpec } from '../../../../agent/nodes/spec.ts';

const record = (name: string, autostart: boolean, state: 'running' | 'stopped', deleting = false): NodeRecord => ({
  spec: validateSpec({ name, autostart }),
  address: '198.18.5.9',
  state,
  deleting,
  deleteVolumes: false,
  builtHash: 'h',
  createdAt: 'x',
  updatedAt: 'x',
});

test("within the same boot the user's last start/stop holds", () => {
  const state: NodesState = { bootId: 'b1', nodes: { a: record('a', true, 'stopped') } };
  const { changed, next } = applyBoot(state, 'b1');
  assert.equal(changed, []);
  assert.is(next, state);
});

test('after a reboot nodes come back by their autostart setting', () => {
  const state: NodesState = {
    bootId: 'b1',
    nodes: {
      a: record('a', true, 'stopped'),
      b: record('b', false, 'running'),
      c: record('c', true, 'running'),
      d: record('d', false, 'running', true),
    },
  };
  const { changed, next } = applyBoot(state, 'b2');
  assert.equal(changed.sort(), ['a', 'b']);
  assert.is(next.nodes.a!.state, 'running');
  assert.is(next.nodes.b!.state, 'stopped');
  assert.is(next.nodes.d!.state, 'running', 'a node being deleted is left to be deleted');
  assert.is(next.bootId, 'b2');
  assert.is(state.nodes.a!.state, 'stopped', 'the input is not changed');
});

test('the first run only records the boot', () => {
  const { changed, next } = applyBoot({ bootId: null, nodes: { a: record('a', false, 'running') } }, 'b1');
  assert.equal(changed, []);
  assert.is(next.bootId, 'b1');
  assert.is(next.nodes.a!.state, 'running');
});

test('toDesired carries what the planner needs', () => {
  assert.equal(toDesired('a', record('a', true, 'stopped'), 'h2'), {
    name: 'a',
    state: 'stopped',
    deleting: false,
    buildHash: 'h2',
    builtHash: 'h',
  });
});

test('the keyed lock runs work for one key one at a time, other keys in parallel', async () => {
  const lock = new KeyedSerialQueue();
  const order: string[] = [];
  const slow = (key: string, label: string, ms: number) =>
    lock.run(key, async () => {
      order.push(`${label}+`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${label}-`);
    });
  await Promise.all([slow('a', 'a1', 30), slow('a', 'a2', 1), slow('b', 'b1', 5)]);
  assert.equal(order, ['a1+', 'b1+', 'b1-', 'a1-', 'a2+', 'a2-']);
  assert.not.ok(lock.busy('a'));
  await assert.not.throws(async () => {
    await lock
      .run('c', async () => {
        throw new Error('boom');
      })
      .catch(() => undefined);
    await lock.run('c', async () => undefined);
  });
});

test.run();
