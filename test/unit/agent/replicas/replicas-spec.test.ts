import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StationError } from '../../../../agent/errors.ts';
import { STATUS_BY_KIND } from '../../../../api/errors.ts';
import { checkReplicas, effectiveFailover } from '../../../../agent/replicas/replicas-spec.ts';

const ctx = {
  self: 's1',
  owner: 'alice',
  peers: [
    { name: 's2', owner: 'alice', online: true, revoked: false },
    { name: 's3', owner: 'alice', online: true, revoked: false },
    { name: 's4', owner: 'alice', online: false, revoked: false },
    { name: 's5', owner: 'alice', online: true, revoked: true },
    { name: 'b1', owner: 'bob', online: true, revoked: false },
  ],
};

/** The HTTP status and code a bad `replicas` gets. */
function refusal(input: unknown): [number, string, string] {
  try {
    checkReplicas(input, ctx);
  } catch (error) {
    assert.instance(error, StationError);
    const e = error as StationError;
    return [STATUS_BY_KIND[e.kind], e.code, e.message];
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

test('defaults: automatic failover, 120 s of lag at most', () => {
  assert.equal(checkReplicas({ stations: ['s2', 's3'] }, ctx), { stations: ['s2', 's3'], failover: 'auto', maxLagSeconds: 120 });
  assert.equal(checkReplicas({ stations: ['s3'], failover: 'manual', maxLagSeconds: 30 }, ctx), { stations: ['s3'], failover: 'manual', maxLagSeconds: 30 });
});

test('stations that cannot hold a replica: a clear 4xx naming the station and why', () => {
  assert.equal(refusal({ stations: ['s1'] }).slice(0, 2), [400, 'REPLICA_ON_ACTIVE_STATION']);
  assert.equal(refusal({ stations: ['s9'] }).slice(0, 2), [404, 'REPLICA_STATION_UNKNOWN']);
  const other = refusal({ stations: ['s2', 'b1'] });
  assert.equal(other.slice(0, 2), [403, 'REPLICA_OTHER_OWNER']);
  assert.match(other[2], /b1 belongs to bob/);
  assert.equal(refusal({ stations: ['s5'] }).slice(0, 2), [403, 'REPLICA_STATION_REVOKED']);
  const offline = refusal({ stations: ['s4'] });
  assert.equal(offline.slice(0, 2), [409, 'REPLICA_STATION_UNREACHABLE']);
  assert.match(offline[2], /s4 is offline/);
});

test('malformed replicas: 400', () => {
  for (const bad of [
    null,
    [],
    'x',
    {},
    { stations: [] },
    { stations: ['s2', 's2'] },
    { stations: ['S2!'] },
    { stations: ['s2', 's3', 's4', 's5', 'b1'] },
    { stations: ['s2'], failover: 'sometimes' },
    { stations: ['s2'], maxLagSeconds: 0 },
    { stations: ['s2'], maxLagSeconds: 1.5 },
    { stations: ['s2'], extra: true },
  ]) {
    assert.equal(refusal(bad).slice(0, 2), [400, 'INVALID_REPLICAS'], JSON.stringify(bad));
  }
});

test('failover is manual with fewer than three lease-store members, and says so', () => {
  const spec = checkReplicas({ stations: ['s2'] }, ctx);
  assert.equal(effectiveFailover(spec, 3), { mode: 'auto', reason: null });
  const two = effectiveFailover(spec, 1);
  assert.is(two.mode, 'manual');
  assert.match(two.reason ?? '', /1 member\(s\); automatic failover needs three/);
  assert.is(effectiveFailover({ ...spec, failover: 'manual' }, 5).mode, 'manual');
});

test.run();
