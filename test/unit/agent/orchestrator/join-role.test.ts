// The role a node joins its cluster with: as its spec asks, or (auto, the default) a manager while
// the cluster has fewer than three, so the cluster survives one station's loss without every member
// voting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUTO_MANAGERS, joinRole } from '../../../../agent/orchestrator/cluster-entry.ts';

test('auto: managers up to three, then workers; unknown counts as fewer', () => {
  assert.is(AUTO_MANAGERS, 3);
  assert.equal(
    [0, 1, 2].map((n) => joinRole('auto', n)),
    ['manager', 'manager', 'manager'],
  );
  assert.equal(
    [3, 4, 7].map((n) => joinRole('auto', n)),
    ['worker', 'worker', 'worker'],
  );
  assert.is(joinRole('auto', null), 'manager');
});

test('an explicit role is kept whatever the count', () => {
  assert.is(joinRole('manager', 5), 'manager');
  assert.is(joinRole('worker', 0), 'worker');
});

test.run();
