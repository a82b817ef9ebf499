import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderNatScript } from '../../../../../agent/nodes/host-network/nat.ts';
import { parseIpLink, parseIpv4Addresses } from '../../../../../agent/nodes/host-network/parse-ip.ts';
import { fixture, golden } from '../../../../fixtures/lxc/golden.ts';

test('the NAT script touches only its own table and replaces its chain (golden)', async () => {
  const script = renderNatScript({ bridge: 'stbr0', gatewayCidr: '198.18.5.1/24', subnet: '198.18.5.0/24' });
  assert.fixture(script, await golden('nat-stbr0.nft', script));
  for (const line of script.split('\n').filter(Boolean)) assert.match(line, /^(add|flush) (table|chain|rule) ip station_nat\b/);
});

test('traffic out of the mesh interface keeps node addresses (peers route node subnets)', () => {
  const script = renderNatScript({
    bridge: 'stbr0',
    gatewayCidr: '198.18.5.1/24',
    subnet: '198.18.5.0/24',
    routedInterfaces: ['nb0123456789'],
  });
  assert.match(script, /ip saddr 198\.18\.5\.0\/24 oifname != \{ "stbr0", "nb0123456789" \} masquerade/);
  assert.throws(
    () => renderNatScript({ bridge: 'stbr0', gatewayCidr: '198.18.5.1/24', subnet: '198.18.5.0/24', routedInterfaces: ['bad name"'] }),
    /invalid interface/,
  );
});

test('bad bridge names and subnets are refused', () => {
  assert.throws(() => renderNatScript({ bridge: 'a bridge', gatewayCidr: '', subnet: '198.18.5.0/24' }), /invalid bridge/);
  assert.throws(() => renderNatScript({ bridge: 'br', gatewayCidr: '', subnet: '198.18.5.0' }), /IPv4 CIDR/);
  assert.throws(() => renderNatScript({ bridge: 'br', gatewayCidr: '', subnet: '300.1.1.0/24' }), /IPv4 CIDR/);
});

test('ip -j link: a bridge, up; a veth', async () => {
  assert.equal(parseIpLink(await fixture('ip-link-bridge.json'))?.kind, 'bridge');
  assert.equal(parseIpLink(await fixture('ip-link-bridge.json'))?.up, true);
  assert.equal(parseIpLink(await fixture('ip-link-veth.json'))?.kind, 'veth');
  assert.equal(parseIpLink('[]'), null);
});

test('ip -j addr: IPv4 addresses as CIDR', async () => {
  assert.equal(parseIpv4Addresses(await fixture('ip-addr-bridge.json')), ['198.18.45.1/24']);
});

test.run();
