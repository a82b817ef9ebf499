// Pairing only from the LAN: a caller on a subnet of one of the station's own LAN interfaces (or the
// box itself), never from the mesh (100.64.0.0/10), a node (the node subnets, the node bridge), or an
// address that is not on any of the station's LANs. The interface list has the shape os.networkInterfaces()
// gives; the station's bridge and Nebula tun carry addresses like the real ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NetworkInterfaceInfo } from 'node:os';
import { pairingRefusal, type OriginRules } from '../../../../agent/indicator/pairing-origin.ts';

const v4 = (address: string, cidr: string): NetworkInterfaceInfo => ({
  address,
  netmask: '',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr,
});
const v6 = (address: string, cidr: string): NetworkInterfaceInfo => ({
  address,
  netmask: '',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr,
  scopeid: 0,
});
const interfaces = {
  lo: [
    { ...v4('127.0.0.1', '127.0.0.1/8'), internal: true },
    { ...v6('::1', '::1/128'), internal: true },
  ],
  eth0: [v4('192.168.1.20', '192.168.1.20/24'), v6('fd00:1::20', 'fd00:1::20/64'), v6('fe80::20', 'fe80::20/64')],
  stbr0: [v4('10.134.0.1', '10.134.0.1/24')],
  nb1a2b3c4d5e: [v4('100.64.3.7', '100.64.0.0/10')],
};
const rules: OriginRules = {
  interfaces: () => interfaces,
  bridge: 'stbr0',
  meshTun: 'nb1a2b3c4d5e',
  nodeNetworks: ['10.134.0.0/24', '10.160.0.0/11'],
};
const refusal = (remote: string, local: string) => pairingRefusal(remote, local, rules);

test('a LAN host (IPv4, IPv4-mapped, ULA IPv6) on the LAN address: allowed', () => {
  assert.is(refusal('192.168.1.33', '192.168.1.20'), null);
  assert.is(refusal('::ffff:192.168.1.33', '::ffff:192.168.1.20'), null);
  assert.is(refusal('fd00:1::33', 'fd00:1::20'), null);
});

test('the box itself (a browser at the console): allowed', () => {
  assert.is(refusal('127.0.0.1', '127.0.0.1'), null);
  assert.is(refusal('::1', '::1'), null);
});

test('a mesh peer (100.64.0.0/10), on the mesh address or routed to the LAN address: refused', () => {
  assert.match(refusal('100.64.9.1', '100.64.3.7')!, /mesh/);
  assert.match(refusal('100.70.0.4', '192.168.1.20')!, /mesh/);
});

test("a node (its subnet, another station's node pool) or anything arriving on the bridge: refused", () => {
  assert.match(refusal('10.134.0.5', '10.134.0.1')!, /node/);
  assert.match(refusal('10.134.0.5', '192.168.1.20')!, /node/);
  assert.match(refusal('10.161.4.9', '192.168.1.20')!, /node/);
});

test('an address on no LAN of this station (routed from elsewhere), or IPv6 link-local: refused', () => {
  assert.match(refusal('203.0.113.9', '192.168.1.20')!, /not on this station's LAN/);
  assert.match(refusal('fe80::33', 'fe80::20')!, /not on this station's LAN/);
});

test.run();
