import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { activeKey, nodeOfKey } from '../../../../../agent/replicas/lease/active-watch.ts';

test('lease keys name their node; other keys under the prefix are not leases', () => {
  const prefix = '/station/replicas/alice/';
  assert.is(activeKey(prefix, 'web'), '/station/replicas/alice/web/active');
  assert.is(nodeOfKey(prefix, '/station/replicas/alice/web/active'), 'web');
  for (const key of [
    '/station/replicas/alice/web/history',
    '/station/replicas/alice//active',
    '/station/replicas/alice/a/b/active',
    '/station/replicas/bob/web/active',
  ]) {
    assert.is(nodeOfKey(prefix, key), null, key);
  }
});

test.run();
