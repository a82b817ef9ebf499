import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSubnet, gatewayOf, allocateAddress, nodeNetwork, inSubnet, readdress } from '../../../../agent/nodes/ipam.ts';
import { CapacityError, ValidationError } from '../../../../agent/errors.ts';

test('the gateway is the first host of the subnet', () => {
  assert.is(gatewayOf(parseSubnet('198.18.5.0/24')), '198.18.5.1');
  assert.is(gatewayOf(parseSubnet('10.134.0.0/16')), '10.134.0.1');
});

test('bad subnets are refused', () => {
  for (const bad of ['198.18.5.1/24', '198.18.5.0', '198.18.5.0/31', '300.1.1.0/24', 'x/24']) {
    assert.throws(
      () => parseSubnet(bad),
      (e: Error) => e instanceof ValidationError,
      bad,
    );
  }
});

test('the same name gets the same address, and it is a usable host address', () => {
  const subnet = parseSubnet('198.18.5.0/24');
  const a = allocateAddress(subnet, 'web', []);
  assert.is(allocateAddress(subnet, 'web', []), a);
  assert.ok(inSubnet(subnet, a), a);
  assert.is.not(a, '198.18.5.1');
});

test('never two nodes the same address, even when names collide on their preferred slot', () => {
  const subnet = parseSubnet('198.18.7.0/28'); // 13 node addresses
  const taken: string[] = [];
  for (let i = 0; i < 13; i++) taken.push(allocateAddress(subnet, `n${i}`, taken));
  assert.is(new Set(taken).size, 13);
  for (const ip of taken) assert.ok(inSubnet(subnet, ip), ip);
  assert.not.ok(taken.includes('198.18.7.0') || taken.includes('198.18.7.1') || taken.includes('198.18.7.15'));
  assert.throws(
    () => allocateAddress(subnet, 'one-more', taken),
    (e: Error) => e instanceof CapacityError && /no free address/.test(e.message),
  );
});

test('a taken preferred address moves the node to the next free one', () => {
  const subnet = parseSubnet('198.18.5.0/24');
  const preferred = allocateAddress(subnet, 'web', []);
  const other = allocateAddress(subnet, 'web', [preferred]);
  assert.is.not(other, preferred);
  assert.ok(inSubnet(subnet, other));
});

test('node network: address with prefix, gateway, DNS = gateway', () => {
  assert.equal(nodeNetwork(parseSubnet('198.18.5.0/24'), '198.18.5.20', 'br0'), {
    bridge: 'br0',
    address: '198.18.5.20/24',
    gateway: '198.18.5.1',
    dns: ['198.18.5.1'],
  });
});

test('moving to another subnet keeps host numbers where they fit, else finds free ones', () => {
  const from = parseSubnet('10.134.0.0/24');
  assert.equal(readdress(from, parseSubnet('10.170.3.0/24'), { a: '10.134.0.20', b: '10.134.0.200' }), {
    a: '10.170.3.20',
    b: '10.170.3.200',
  });
  const small = parseSubnet('10.170.3.0/26');
  const moved = readdress(from, small, { a: '10.134.0.20', b: '10.134.0.200', c: '10.134.0.30' });
  assert.is(moved.a, '10.170.3.20');
  assert.is(moved.c, '10.170.3.30');
  assert.ok(inSubnet(small, moved.b!), `${moved.b} fits the new subnet`);
  assert.is(new Set(Object.values(moved)).size, 3);
});

test.run();
