// Who is calling the station-to-station API (issue 11, finding 3): a member of this owner's mesh,
// over the mesh, from an address in this owner's range. Every CA's range is disjoint from the
// others' (ca-ranges.ts) and Nebula's firewall binds each CA to its range, so an address in our
// range is a certificate of our CA; a member record outside it (e.g. from a forged directory)
// never identifies a caller.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StationError } from '../../../../agent/errors.ts';
import { checkDirectory, identifyCaller } from '../../../../agent/mesh/identity.ts';
import { emptyMeshState, type MemberRecord, type MeshState } from '../../../../agent/mesh/mesh-state.ts';
import type { Directory } from '../../../../agent/mesh/authority.ts';

const CA = `1a${'00'.repeat(31)}`; // its block: 100.90.0.0/16
const member = (name: string, address: string, extra: Partial<MemberRecord> = {}): MemberRecord => ({
  name,
  address,
  owner: 'alice',
  fingerprint: `f-${name}`,
  lighthouse: false,
  endpoints: [],
  apiPort: 8088,
  joinedAt: '',
  ...extra,
});
const state: MeshState = {
  ...emptyMeshState(),
  role: 'member',
  owner: 'alice',
  name: 'a2',
  address: '100.90.0.2',
  caFingerprint: CA,
  block: '',
  members: [member('a1', '100.90.0.1'), member('a2', '100.90.0.2'), member('a3', '100.90.0.3', { revokedAt: 'x' }), member('b9', '100.127.0.9')],
};
/** What identifyCaller says of a call from `remote` to `local`: 'accepted', or the refusal's code. */
const verdict = (mesh: MeshState, remote: string, local: string): string => {
  try {
    identifyCaller(mesh, remote, local);
  } catch (error) {
    return (error as StationError).code;
  }
  return 'accepted';
};

test('a member calling over the mesh is that member', () => {
  assert.is(identifyCaller(state, '::ffff:100.90.0.1', '::ffff:100.90.0.2').name, 'a1');
});

test("a record outside this owner's range identifies nobody, even when listed", () => {
  assert.is(verdict(state, '100.127.0.9', '100.90.0.2'), 'MESH_NOT_A_MEMBER');
});

test('revoked, unknown, not over the mesh: refused', () => {
  assert.is(verdict(state, '100.90.0.3', '100.90.0.2'), 'MESH_NOT_A_MEMBER');
  assert.is(verdict(state, '100.90.0.77', '100.90.0.2'), 'MESH_NOT_A_MEMBER');
  assert.is(verdict(state, '198.19.1.5', '198.19.1.2'), 'MESH_IDENTITY_REQUIRED');
  assert.is(verdict(state, '100.90.0.1', '198.19.1.2'), 'MESH_IDENTITY_REQUIRED');
  assert.is(verdict({ ...state, role: 'none' }, '100.90.0.1', '100.90.0.2'), 'MESH_IDENTITY_REQUIRED');
});

const directory = (change: Partial<Directory> = {}): Directory => ({
  owner: 'alice',
  caFingerprint: CA,
  authority: 'a1',
  lighthouses: [],
  members: [member('a1', '100.90.0.1'), member('a2', '100.90.0.2')],
  blocklist: [],
  online: [],
  ...change,
});

test('a member takes a directory only for its own CA, with every member in its own range', () => {
  assert.not.throws(() => checkDirectory(state, directory()));
  assert.throws(() => checkDirectory(state, directory({ caFingerprint: 'bb'.repeat(32) })), /CA/);
  assert.throws(() => checkDirectory(state, directory({ members: [member('a1', '100.90.0.1'), member('b9', '100.127.0.9')] })), /100\.127\.0\.9/);
});

test('a member refuses a directory with an endpoint or API port that is not one (issue 11, finding 11)', () => {
  for (const bad of [{ endpoints: ['198.18.0.1:99999'] }, { endpoints: ['198.18.0.1:4242\n  am_lighthouse: true'] }, { apiPort: 0 }, { apiPort: 65536 }]) {
    assert.throws(
      () => checkDirectory(state, directory({ members: [member('a1', '100.90.0.1', { lighthouse: true, ...bad })] })),
      /endpoint|API port/,
      JSON.stringify(bad),
    );
  }
});

test.run();
