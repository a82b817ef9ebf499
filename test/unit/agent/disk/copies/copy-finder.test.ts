// Finding a node's copies on the owner's peers (restore anywhere, `disk cat` from a copy): which
// error a caller gets when there is nothing to read. Doubles, named as such: the mesh (its peers),
// the peers' stores (holdings and grants) and restic (snapshots, or the error restic's output maps to).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CopyMesh } from '../../../../../agent/disk/copies/copy-deps.ts';
import { findCopy } from '../../../../../agent/disk/copies/copy-finder.ts';
import type { StoreClient } from '../../../../../agent/disk/copies/peer-client.ts';
import { CopyError, type Restic } from '../../../../../agent/disk/copies/restic.ts';
import type { PeerView } from '../../../../../agent/mesh/peers.ts';
import { StationError } from '../../../../../agent/errors.ts';

const peer = (name: string) => ({ name, owner: 'alice', address: `100.64.0.${name.slice(1)}`, online: true, revoked: false, apiPort: 8088 }) as PeerView;
const mesh: CopyMesh = { info: () => ({ state: 'up', owner: 'alice', name: 's1' }) as ReturnType<CopyMesh['info']>, peers: () => [peer('s2'), peer('s3')] };
// s3 holds s2's copy of web; s2 holds nothing of it
const store: StoreClient = {
  holdings: async (p) => (p.name === 's3' ? [{ station: 's2', repository: 'web', bytes: 1, lastWrite: null }] : []),
  grant: async (p, readFrom) => ({
    repositoryBase: `rest:http://${p.address}:8713/s1.alice/${readFrom ? `from-${readFrom}/` : ''}`,
    user: 's1.alice',
    password: 'pw',
    offerBytes: 1,
    usedBytes: 0,
    freeBytes: 1,
  }),
};
const resticFailing = (failure: 'WRONG_KEY' | 'PEER_UNREACHABLE') =>
  ({
    snapshots: async (repo: { label: string }) => {
      throw new CopyError(failure, failure === 'WRONG_KEY' ? "the owner's key does not open this repository" : 'the peer did not answer', repo.label);
    },
  }) as unknown as Restic;

async function refusal(restic: Restic, node: string): Promise<StationError> {
  try {
    await findCopy({ mesh, store, restic }, { node });
  } catch (error) {
    assert.instance(error, StationError);
    return error as StationError;
  }
  throw new Error('findCopy found a copy');
}

test('copies held but the owner key here opens none: 409 COPY_WRONG_KEY naming the copy, not "nothing held"', async () => {
  const e = await refusal(resticFailing('WRONG_KEY'), 'web');
  assert.is(e.code, 'COPY_WRONG_KEY');
  assert.is(e.kind, 'conflict');
  assert.match(e.message, /s3\/web/);
  assert.match(e.message, /key does not open/);
});

test('a node copied nowhere: 404 COPY_NOT_FOUND', async () => {
  const e = await refusal(resticFailing('WRONG_KEY'), 'ghost');
  assert.is(e.code, 'COPY_NOT_FOUND');
  assert.match(e.message, /no reachable peer holds a copy of node ghost/);
});

test('a copy that cannot be reached: still 404 COPY_NOT_FOUND with the reason', async () => {
  const e = await refusal(resticFailing('PEER_UNREACHABLE'), 'web');
  assert.is(e.code, 'COPY_NOT_FOUND');
  assert.match(e.message, /did not answer/);
});

test.run();
