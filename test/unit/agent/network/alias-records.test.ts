import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localRecords, resolveRecords, renderHosts, sanitizeRemote } from '../../../../agent/network/alias/records.ts';
import { AliasRegistry } from '../../../../agent/network/alias/registry.ts';
import { dnsmasqArgs, upstreamsFromResolvConf } from '../../../../agent/network/alias/dnsmasq.ts';

test('nodes are NODE.STATION.domain, aliases ALIAS.OWNER.domain', () => {
  const recs = localRecords([{ name: 'web', address: '10.134.0.10', aliases: ['www'] }], 's1', 'alice', 'mesh.internal', [], 1000);
  assert.equal(
    recs.map((r) => [r.name, r.address, r.kind]),
    [
      ['web.s1.mesh.internal', '10.134.0.10', 'node'],
      ['www.alice.mesh.internal', '10.134.0.10', 'alias'],
    ],
  );
});

test('a record keeps its age while its address stays; a new address is a new claim', () => {
  const first = localRecords([{ name: 'web', address: '10.134.0.10' }], 's1', 'o', 'd', [], 1000);
  assert.is(localRecords([{ name: 'web', address: '10.134.0.10' }], 's1', 'o', 'd', first, 2000)[0]!.since, 1000);
  assert.is(localRecords([{ name: 'web', address: '10.134.0.11' }], 's1', 'o', 'd', first, 2000)[0]!.since, 2000);
});

test('the newest claim of a name wins (the replica that became Active last)', () => {
  const a = { name: 'www.o.d', address: '10.1.0.5', station: 's1', node: 'web', kind: 'alias' as const, since: 100 };
  const b = { ...a, address: '10.2.0.7', station: 's2', since: 200 };
  assert.equal(
    resolveRecords([a, b]).map((r) => r.address),
    ['10.2.0.7'],
  );
  assert.equal(
    resolveRecords([b, a]).map((r) => r.address),
    ['10.2.0.7'],
  );
  assert.is(renderHosts(resolveRecords([a])), '10.1.0.5 www.o.d\n');
});

test('records from peers: only names under our domain with IPv4 addresses', () => {
  const got = sanitizeRemote(
    [
      { name: 'x.s2.mesh.internal', address: '10.2.0.7', node: 'x', kind: 'node', since: 5, station: 's1' },
      { name: 'evil.example.com', address: '1.2.3.4', node: 'x' },
      { name: 'y.s2.mesh.internal', address: '10.2.0.999', node: 'y' },
      { name: 'bad label.mesh.internal', address: '1.1.1.1', node: 'z' },
      null,
    ],
    { station: 's2' },
    'mesh.internal',
    1000,
    [],
  ).records;
  assert.equal(
    got.map((r) => r.name),
    ['x.s2.mesh.internal'],
  );
  assert.is(got[0]!.station, 's2', 'the station is who we pulled from, not what the record says');
});

test('the registry tells the resolver only when an answer changes', () => {
  const registry = new AliasRegistry('mesh.internal');
  const seen: string[][] = [];
  registry.onChange((records) => seen.push(records.map((r) => `${r.name}=${r.address}`)));
  registry.setRemoteRecords('s2', [{ name: 'www.o.mesh.internal', address: '10.2.0.7', node: 'web', kind: 'alias', since: 1 }], 'o');
  registry.setRemoteRecords('s2', [{ name: 'www.o.mesh.internal', address: '10.2.0.7', node: 'web', kind: 'alias', since: 1 }], 'o');
  registry.setRemoteRecords('s3', [{ name: 'www.o.mesh.internal', address: '10.3.0.7', node: 'web', kind: 'alias', since: 2 }], 'o');
  registry.forgetStation('s3');
  assert.equal(seen, [['www.o.mesh.internal=10.2.0.7'], ['www.o.mesh.internal=10.3.0.7'], ['www.o.mesh.internal=10.2.0.7']]);
});

test('dnsmasq reads only our hosts file, answers our domain locally, forwards the rest upstream', () => {
  const args = dnsmasqArgs({ dir: '/s/dns', listen: ['10.134.0.1'], domain: 'mesh.internal', upstreams: ['9.9.9.9'] });
  for (const a of [
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--addn-hosts=/s/dns/hosts',
    '--local=/mesh.internal/',
    '--listen-address=10.134.0.1',
    '--server=9.9.9.9',
    '--bind-dynamic',
  ])
    assert.ok(args.includes(a), a);
  assert.equal(upstreamsFromResolvConf('# x\nnameserver 127.0.0.53\nnameserver 192.168.1.1\nsearch lan\n'), ['192.168.1.1']);
});

test.run();
