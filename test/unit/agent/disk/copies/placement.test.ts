// Where copies go: on the owner's other online stations with room, never two on one station nor on
// this one; existing copies stay through a short absence and move after peerLostSeconds; fewer
// stations than wanted give as many copies as possible and a reason the page shows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type PeerCandidate, placeCopies, type PlacementInput } from '../../../../../agent/disk/copies/placement.ts';

const GB = 2 ** 30;
const HOUR = 3_600_000;
const NOW = 10 * HOUR;
const peer = (name: string, more: Partial<PeerCandidate> = {}): PeerCandidate => ({
  name,
  online: true,
  revoked: false,
  offlineSince: null,
  freeBytes: 10 * GB,
  latencyMs: 5,
  ...more,
});
const place = (more: Partial<PlacementInput>) =>
  placeCopies({ self: 's1', want: 3, peers: [], current: [], now: NOW, peerLostMs: HOUR, needBytes: GB, ...more });

test('three online peers with room: one copy on each, none on this station', () => {
  const p = place({ peers: [peer('s1'), peer('s2'), peer('s3'), peer('s4')] });
  assert.equal({ add: p.add.length, have: p.have, reason: p.reason }, { add: 3, have: 3, reason: null });
  assert.not.ok(p.add.includes('s1'));
  assert.is(new Set(p.add).size, 3, 'never two on one station');
});

test('most free space first, then the nearest', () => {
  const p = place({
    want: 2,
    peers: [peer('s2', { freeBytes: 2 * GB }), peer('s3', { freeBytes: 9 * GB, latencyMs: 50 }), peer('s4', { freeBytes: 9 * GB, latencyMs: 3 })],
  });
  assert.equal(p.add, ['s4', 's3']);
});

test('healthy placements are kept and not duplicated', () => {
  const p = place({ peers: [peer('s2'), peer('s3'), peer('s4')], current: [{ station: 's3' }, { station: 's3' }] });
  assert.equal(p.keep, ['s3']);
  assert.equal(p.add.sort(), ['s2', 's4']);
});

test('a peer offline for less than peerLostSeconds keeps its copy; longer, the copy moves', () => {
  const briefly = place({ peers: [peer('s2', { online: false, offlineSince: NOW - HOUR / 2 }), peer('s3'), peer('s4')], current: [{ station: 's2' }] });
  assert.equal({ keep: briefly.keep, drop: briefly.drop }, { keep: ['s2'], drop: [] });
  const lost = place({ peers: [peer('s2', { online: false, offlineSince: NOW - HOUR }), peer('s3'), peer('s4'), peer('s5')], current: [{ station: 's2' }] });
  assert.equal(lost.drop, [{ station: 's2', why: 'lost' }]);
  assert.equal(lost.add.sort(), ['s3', 's4', 's5']);
});

test('revoked, vanished and damaged copies are replaced', () => {
  const p = place({
    peers: [peer('s2', { revoked: true }), peer('s3'), peer('s4'), peer('s5')],
    current: [{ station: 's2' }, { station: 'gone' }, { station: 's3', damaged: true }],
  });
  assert.equal(p.drop, [
    { station: 's2', why: 'revoked' },
    { station: 'gone', why: 'gone' },
    { station: 's3', why: 'damaged' },
  ]);
  assert.equal(p.add.sort(), ['s4', 's5'], 'the damaged station is not chosen again this round');
  assert.match(p.reason!, /2 of 3 copies/);
});

test('full, offline, revoked and refusing peers are skipped, and the reason names them (2/3 amber)', () => {
  const p = place({
    peers: [peer('s2'), peer('s3', { freeBytes: GB / 2 }), peer('s4', { online: false, offlineSince: NOW }), peer('s5'), peer('s6', { revoked: true })],
    avoid: ['s5'],
    current: [],
    want: 3,
  });
  assert.equal(p.add, ['s2']);
  assert.is(p.have, 1);
  assert.is(
    p.reason,
    "1 of 3 copies: only 1 of the owner's other stations can take one (s3 no free offered space, s4 offline, s5 refused or failing, s6 revoked)",
  );
});

test('no other station: no copy, and the page says why', () => {
  const p = place({ peers: [peer('s1')] });
  assert.equal({ have: p.have, reason: p.reason }, { have: 0, reason: '0 of 3 copies: this station has no other stations of its owner to copy to' });
});

test('copies lowered: the surplus is dropped', () => {
  const p = place({ want: 1, peers: [peer('s2'), peer('s3')], current: [{ station: 's2' }, { station: 's3' }] });
  assert.equal({ keep: p.keep, drop: p.drop, add: p.add }, { keep: ['s2'], drop: [{ station: 's3', why: 'surplus' }], add: [] });
});

test.run();
