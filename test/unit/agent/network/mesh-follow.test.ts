// The network follows the mesh on its events, not on a clock: a mesh.* event makes it read the
// mesh's facts once; the owner, the peers to pull names from and (once Nebula is up) the mesh
// facts for the table reach it; what did not change is not handed over again; nothing else is read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { EventBus } from '../../../../agent/events.ts';
import { MeshFollow } from '../../../../agent/network/mesh-follow.ts';
import type { MeshFacts } from '../../../../agent/network/mesh-facts.ts';
import type { MeshNetworkFacts } from '../../../../agent/network/types.ts';

function follower(facts: () => MeshFacts) {
  const events = new EventBus();
  const seen = { reads: 0, owners: [] as (string | undefined)[], peers: [] as string[][], mesh: [] as MeshNetworkFacts[] };
  const follow = new MeshFollow({
    mesh: {
      meshFacts: () => {
        seen.reads++;
        return facts();
      },
    },
    events,
    log: pino({ level: 'silent' }),
    setOwner: (owner) => seen.owners.push(owner),
    setAliasPeers: (peers) => seen.peers.push(peers.map((p) => p.station)),
    setMesh: async (mesh) => {
      seen.mesh.push(mesh);
    },
  });
  return { events, seen, follow };
}

test('a station in no mesh: read once at start, then only when the mesh says something changed', () => {
  let facts: MeshFacts = { owner: null, peers: [] };
  const { events, seen, follow } = follower(() => facts);
  follow.start();
  assert.is(seen.reads, 1);
  events.publish('node.deleted', { name: 'a', volumesDeleted: false });
  events.publish('station.started', { name: 's1' });
  assert.is(seen.reads, 1, "other rooms' events are not the mesh's");
  assert.equal(seen.mesh, [], 'no mesh interface yet: the table keeps what it had');
  facts = {
    owner: 'alice',
    peers: [{ station: 's2', url: 'http://100.65.0.2:8088', owner: 'alice' }],
    meshInterface: 'nb1',
    meshSubnets: ['100.64.0.0/10'],
    owners: { alice: ['100.65.0.2'] },
    groups: { station: ['100.65.0.2'], 'owner-alice': ['100.65.0.2'] },
  };
  events.publish('mesh.peers', { peers: ['s2'] });
  assert.is(seen.reads, 2);
  assert.equal(seen.owners.at(-1), 'alice');
  assert.equal(seen.peers, [[], ['s2']]);
  const directory = { nodes: {}, owners: { alice: ['100.65.0.2'] }, groups: { station: ['100.65.0.2'], 'owner-alice': ['100.65.0.2'] } };
  assert.equal(seen.mesh, [{ meshInterface: 'nb1', meshSubnets: ['100.64.0.0/10'], owner: 'alice', directory }]);
  events.publish('mesh.member.joined', { name: 's3', address: '100.65.0.3' });
  assert.is(seen.reads, 3);
  assert.equal(seen.peers.length, 2, 'the same peers are not handed over again');
  assert.equal(seen.mesh.length, 1, 'the same facts do not re-apply the table');
  follow.stop();
  events.publish('mesh.left', { owner: 'alice' });
  assert.is(seen.reads, 3, 'stopped: nothing is read');
});

test("the station's mesh address goes to the table; leaving the mesh takes the mesh out of it, a Nebula restart does not", () => {
  const up: MeshFacts = { owner: 'alice', peers: [], state: 'up', meshInterface: 'nb1', meshAddress: '100.65.0.2', meshSubnets: ['100.64.0.0/10'] };
  let facts: MeshFacts = up;
  const { events, seen, follow } = follower(() => facts);
  follow.start();
  const directory = { nodes: {}, owners: {}, groups: {} };
  assert.equal(seen.mesh, [{ meshInterface: 'nb1', meshAddress: '100.65.0.2', meshSubnets: ['100.64.0.0/10'], owner: 'alice', directory }]);
  facts = { owner: 'alice', peers: [], state: 'down' };
  events.publish('mesh.peers', { peers: [] });
  assert.is(seen.mesh.length, 1, 'Nebula down (restarting): the table keeps what it had');
  facts = up;
  events.publish('mesh.peers', { peers: [] });
  assert.is(seen.mesh.length, 1, 'up again with the same facts: nothing to re-apply');
  facts = { owner: null, peers: [], state: 'none' };
  events.publish('mesh.left', { owner: 'alice' });
  assert.equal(seen.mesh.at(-1), { meshSubnets: [], owner: undefined }, 'in no mesh: no interface, no address, no subnets');
  events.publish('mesh.peers', { peers: [] });
  assert.is(seen.mesh.length, 2, 'handed over once');
  facts = { ...up, meshAddress: '100.70.0.3' };
  events.publish('mesh.joined', { owner: 'alice' });
  assert.is(seen.mesh.at(-1)?.meshAddress, '100.70.0.3', 'a new mesh, a new address');
  follow.stop();
});

test('a mesh that cannot answer yet (not started) is skipped until its next event', () => {
  let ready = false;
  const { events, seen, follow } = follower(() => {
    if (!ready) throw new Error('not loaded');
    return { owner: 'bob', peers: [] };
  });
  follow.start();
  assert.equal(seen.owners, []);
  ready = true;
  events.publish('mesh.created', { owner: 'bob', address: '100.70.0.1' });
  assert.equal(seen.owners, ['bob']);
});

test.run();
