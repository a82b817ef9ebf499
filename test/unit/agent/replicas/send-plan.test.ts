import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setName } from '../../../../agent/disk/snapshots/set-records.ts';
import { planSend, setsOldestFirst } from '../../../../agent/replicas/stream/send-plan.ts';

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

test('only snapshot sets are copied, by when they were taken: a demoted copy re-promoted never sends its diverged snapshot as the newest', () => {
  const t1 = setName(new Date('2026-12-05T05:00:00.000Z'), 'auto');
  const t2 = setName(new Date('2026-12-05T05:00:05.000Z'), 'manual');
  const t3 = setName(new Date('2026-12-05T05:00:10.000Z'), 'auto');
  // as the btrfs driver lists them when every snapshot has its volume's creation time: by name
  const listed = [t1, t2, t3, 'diverged-2026-12-05T05.00.07.000Z', 'before-restore'].sort();
  assert.equal(setsOldestFirst(listed), [t1, t2, t3]);
  assert.equal(planSend(setsOldestFirst(listed), [t1, t2]), { snapshot: t3, parent: t2, needed: true });
});

test.run();
