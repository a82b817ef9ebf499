import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planSend } from '../../../../agent/replicas/stream/send-plan.ts';

test('the newest snapshot, against the newest one both hold', () => {
  assert.equal(planSend(['a', 'b', 'c'], ['a', 'b']), { snapshot: 'c', parent: 'b', needed: true });
  assert.equal(planSend(['a', 'b', 'c'], ['a']), { snapshot: 'c', parent: 'a', needed: true }, 'behind by two: still an increment');
});

test('whole when nothing is shared; nothing when the receiver has the newest; nothing to send without snapshots', () => {
  assert.equal(planSend(['b', 'c'], []), { snapshot: 'c', parent: null, needed: true });
  assert.equal(planSend(['b', 'c'], ['a']), { snapshot: 'c', parent: null, needed: true }, 'its only one was pruned here');
  assert.equal(planSend(['a', 'b'], ['a', 'b']), { snapshot: 'b', parent: null, needed: false });
  assert.is(planSend([], ['a']), null);
});

test.run();
