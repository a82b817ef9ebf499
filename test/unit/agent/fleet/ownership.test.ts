import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseIsFree, otherLiveHolder, OwnerLease, STALE_MS } from '../../../../agent/fleet/ownership.ts';

const lease = (instance: string, heartbeatAt: number, released = false) => ({ instance, version: '1', heartbeatAt, released });

test('leaseIsFree: none, ours, released or stale is free; a fresh one of another agent is not', () => {
  const now = 1_000_000;
  assert.equal(leaseIsFree(null, 'me', now), true);
  assert.equal(leaseIsFree(lease('me', now), 'me', now), true);
  assert.equal(leaseIsFree(lease('old', now, true), 'me', now), true);
  assert.equal(leaseIsFree(lease('old', now - STALE_MS - 1), 'me', now), true);
  assert.equal(leaseIsFree(lease('old', now - 100), 'me', now), false);
  assert.equal(otherLiveHolder(lease('old', now - 100), 'me', now), 'old');
  assert.equal(otherLiveHolder(lease('old', now, true), 'me', now), null);
});

test('a second agent waits until the first releases, then owns the lease', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-lease-'));
  try {
    const file = join(dir, 'fleet', 'owner.json');
    const a = new OwnerLease(file, 'a', '1');
    const b = new OwnerLease(file, 'b', '2');
    await a.acquire();
    assert.equal(a.isOwner, true);
    let bOwns = false;
    const waiting = b.acquire({ pollMs: 10 }).then(() => {
      bOwns = true;
    });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(bOwns, false, 'b waits while a holds a fresh lease');
    await a.release();
    await waiting;
    assert.equal(bOwns, true);
    assert.equal((await b.read())?.instance, 'b');
    assert.equal(a.isOwner, false);
    await b.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
