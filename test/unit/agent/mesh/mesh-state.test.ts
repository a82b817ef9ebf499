import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyMeshState, lighthousesOf, tunDevFor, type MeshState } from '../../../../agent/mesh/mesh-state.ts';

test('tun device names: valid interface names, distinct per station state directory, overridable', () => {
  const a = tunDevFor('/run/station-testbed/sttb/s1/state', '');
  const b = tunDevFor('/run/station-testbed/sttc/s1/state', '');
  assert.is.not(a, b, 'same station name in two testbeds');
  for (const n of [a, b]) assert.match(n, /^[a-z0-9]{1,15}$/);
  assert.is(tunDevFor('/var/lib/station', ''), tunDevFor('/var/lib/station', ''), 'stable across restarts');
  assert.is(tunDevFor('/var/lib/station', 'nebula1'), 'nebula1');
});

test("lighthouses: live members with an endpoint, then trusted owners' (no duplicates)", () => {
  const s: MeshState = {
    ...emptyMeshState(),
    members: [
      {
        name: 's1',
        address: '100.90.0.1',
        owner: 'a',
        fingerprint: 'f1',
        lighthouse: true,
        endpoints: ['198.18.0.1:4242'],
        apiPort: 8088,
        joinedAt: '',
      },
      { name: 's2', address: '100.90.0.2', owner: 'a', fingerprint: 'f2', lighthouse: false, endpoints: [], apiPort: 8088, joinedAt: '' },
      {
        name: 's3',
        address: '100.90.0.3',
        owner: 'a',
        fingerprint: 'f3',
        lighthouse: true,
        endpoints: ['198.18.0.3:4242'],
        apiPort: 8088,
        joinedAt: '',
        revokedAt: 'x',
      },
    ],
    trusted: [
      {
        owner: 'b',
        fingerprint: 'cb',
        pem: '',
        allow: [],
        lighthouses: [
          { name: 'b1', address: '100.70.0.1', endpoints: ['198.18.0.9:4242'] },
          { name: 'dup', address: '100.90.0.1', endpoints: [] },
        ],
      },
    ],
  };
  assert.equal(
    lighthousesOf(s).map((l) => l.name),
    ['s1', 'b1'],
  );
});

test('stuck tunnels: failing long enough, reached by the authority, and only the lower address acts', async () => {
  const { stuckPeers, STUCK_AFTER_MS } = await import('../../../../agent/mesh/peers.ts');
  const now = 1_000_000;
  const failing = new Map([
    ['100.90.0.9', now - STUCK_AFTER_MS],
    ['100.90.0.3', now - STUCK_AFTER_MS - 1],
    ['100.90.0.7', now - 1000],
    ['100.90.0.8', now - STUCK_AFTER_MS],
  ]);
  const authority = new Set(['100.90.0.9', '100.90.0.3', '100.90.0.7']);
  assert.equal(stuckPeers(failing, authority, '100.90.0.5', now), ['100.90.0.9'], '.3 is lower (it acts), .7 too recent, .8 down for the authority too');
  assert.equal(stuckPeers(failing, authority, '100.90.0.2', now), ['100.90.0.3', '100.90.0.9']);
  assert.equal(stuckPeers(new Map(), authority, '100.90.0.2', now), []);
  assert.equal(stuckPeers(failing, new Set(), '100.90.0.2', now), [], 'a peer that is really down is not a stuck tunnel');
});

test.run();
