import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { meshFactsFrom, remoteNodeDirectory } from '../../../../agent/network/mesh-facts.ts';

const peers = [
  { name: 's1', owner: 'alice', address: '100.70.0.1', revoked: false },
  { name: 's2', owner: 'alice', address: '100.70.0.2', revoked: false },
  { name: 's3', owner: 'bob', address: '100.80.0.3', revoked: false },
  { name: 's4', owner: 'bob', address: '100.80.0.4', revoked: true },
];

test('from the mesh: peers to pull names from (not ourselves, not revoked) with their owners, owners by mesh address', () => {
  const facts = meshFactsFrom({ state: 'up', owner: 'alice', nebula: { tunDev: 'nebula1' } }, peers, { name: 's1', httpPort: 8088 });
  assert.equal(facts.peers, [
    { station: 's2', url: 'http://100.70.0.2:8088', owner: 'alice' },
    { station: 's3', url: 'http://100.80.0.3:8088', owner: 'bob' },
  ]);
  assert.equal(facts.owners, { alice: ['100.70.0.2'], bob: ['100.80.0.3'] });
  assert.is(facts.meshInterface, 'nebula1');
  assert.equal(facts.meshSubnets, ['100.64.0.0/10']);
});

test("node subnets routed to peers count as the mesh, and as their owner's", () => {
  const routed = [
    { ...peers[1]!, nodeSubnet: '10.170.1.0/24' },
    { ...peers[2]!, nodeSubnet: '10.180.0.0/24' },
    { ...peers[3]!, nodeSubnet: '10.180.1.0/24' },
  ];
  const facts = meshFactsFrom({ state: 'up', owner: 'alice', nebula: { tunDev: 'nebula1' } }, routed, { name: 's1', httpPort: 8088 });
  assert.equal(facts.meshSubnets, ['100.64.0.0/10', '10.170.1.0/24', '10.180.0.0/24'], "not the revoked station's");
  assert.equal(facts.owners, { alice: ['10.170.1.0/24', '100.70.0.2'], bob: ['10.180.0.0/24', '100.80.0.3'] });
});

test('certificate groups: every station, its owner-NAME group, lighthouses', () => {
  const views = [
    { ...peers[1]!, lighthouse: true, nodeSubnet: '10.170.1.0/24' },
    { ...peers[2]!, lighthouse: false },
  ];
  const facts = meshFactsFrom({ state: 'up', owner: 'alice', nebula: { tunDev: 'nebula1' } }, views, { name: 's1', httpPort: 8088 });
  assert.equal(facts.groups, {
    station: ['10.170.1.0/24', '100.70.0.2', '100.80.0.3'],
    'owner-alice': ['10.170.1.0/24', '100.70.0.2'],
    'owner-bob': ['100.80.0.3'],
    lighthouse: ['10.170.1.0/24', '100.70.0.2'],
  });
});

test('a mesh that is not up gives peers and owner only (no interface to filter on)', () => {
  const facts = meshFactsFrom({ state: 'down', owner: 'alice', address: '100.70.0.1', nebula: { tunDev: 'nebula1' } }, peers, { name: 's1', httpPort: 8088 });
  assert.is(facts.meshInterface, undefined);
  assert.is(facts.meshAddress, undefined);
  assert.is(facts.owner, 'alice');
  assert.is(facts.state, 'down');
});

test("once up, the station's own mesh address (the table lets it be reached through the mesh only)", () => {
  const facts = meshFactsFrom({ state: 'up', owner: 'alice', address: '100.70.0.1', nebula: { tunDev: 'nebula1' } }, peers, { name: 's1', httpPort: 8088 });
  assert.is(facts.meshAddress, '100.70.0.1');
  assert.is(facts.state, 'up');
  const none = meshFactsFrom({ state: 'none', owner: null, address: null, nebula: { tunDev: 'nebula1' } }, [], { name: 's1', httpPort: 8088 });
  assert.equal(none, { owner: null, state: 'none', peers: [] });
});

test('nodes of other stations by NAME.STATION, and by NAME while it is unambiguous', () => {
  const rec = (node: string, station: string, address: string, kind: 'node' | 'alias' = 'node') => ({
    name: `${node}.${station}.d`,
    address,
    station,
    node,
    kind,
    since: 1,
  });
  const dir = remoteNodeDirectory(
    [
      rec('web', 's2', '10.2.0.5'),
      rec('db', 's2', '10.2.0.6'),
      rec('db', 's3', '10.3.0.6'),
      rec('mine', 's1', '10.1.0.9'),
      rec('www', 's2', '10.2.0.5', 'alias'),
    ],
    's1',
  );
  assert.equal(dir, { 'db.s2': ['10.2.0.6'], 'db.s3': ['10.3.0.6'], web: ['10.2.0.5'], 'web.s2': ['10.2.0.5'] });
});

test.run();
