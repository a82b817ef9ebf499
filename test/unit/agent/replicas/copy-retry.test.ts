// When a copy that missed the newest snapshot is tried again between snapshots (the bench once saw a
// copy skipped while its station was briefly offline wait forever for a node whose snapshots come
// only on demand).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAILED_COPY_RETRY_MS, retryCopyNow } from '../../../../agent/replicas/active/replica-status.ts';

const at = 1_000_000;

test('skipped while its station was offline: tried again as soon as the station is back, not before', () => {
  assert.is(retryCopyNow({ state: 'offline', sending: false }, true, at, at), true);
  assert.is(retryCopyNow({ state: 'offline', sending: false }, false, at, at + 60_000), false);
});

test('a failed copy: tried again after the pause, not at every tick', () => {
  assert.is(retryCopyNow({ state: 'failing', sending: false }, true, at, at + FAILED_COPY_RETRY_MS - 1), false);
  assert.is(retryCopyNow({ state: 'failing', sending: false }, true, at, at + FAILED_COPY_RETRY_MS), true);
});

test('in sync, waiting for its first snapshot, or being sent now: left alone', () => {
  assert.is(retryCopyNow({ state: 'in-sync', sending: false }, true, 0, at), false);
  assert.is(retryCopyNow({ state: 'waiting', sending: false }, true, 0, at), false);
  assert.is(retryCopyNow({ state: 'offline', sending: true }, true, 0, at), false);
});

test.run();
