import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  allocateAddress,
  allocateNodeSubnet,
  cidrsOverlap,
  cidrWithin,
  inCidr,
  ownerBlock,
  ownerNodeBlock,
  MESH_NETWORK,
} from '../../../../agent/mesh/addresses.ts';
import type { StationError } from '../../../../agent/errors.ts';

test('an owner block is a /16 inside 100.64.0.0/10, chosen by the CA fingerprint', () => {
  assert.is(ownerBlock('00ab'), '100.64.0.0/16');
  assert.is(ownerBlock('3fab'), '100.127.0.0/16');
  assert.is(ownerBlock('40ab'), '100.64.0.0/16');
  for (const fp of ['a7', 'c2', 'ff', '13']) assert.ok(inCidr(ownerBlock(fp).split('/')[0]!, MESH_NETWORK));
});

test('allocation takes the lowest free host and never repeats one in use', () => {
  const block = '100.90.0.0/16';
  assert.is(allocateAddress(block, []), '100.90.0.1');
  assert.is(allocateAddress(block, ['100.90.0.1', '100.90.0.2']), '100.90.0.3');
  assert.is(allocateAddress(block, ['100.90.0.1', '100.90.0.3']), '100.90.0.2');
  const used: string[] = [];
  for (let i = 0; i < 600; i++) used.push(allocateAddress(block, used));
  assert.is(new Set(used).size, 600, 'no duplicates');
  assert.not.ok(
    used.some((a) => a.endsWith('.0') || a.endsWith('.255')),
    'skips .0 and .255',
  );
  assert.ok(used.every((a) => inCidr(a, block)));
});

test('a full block is a capacity error, not a duplicate', () => {
  const block = '100.90.0.0/29';
  const used = ['100.90.0.1', '100.90.0.2', '100.90.0.3', '100.90.0.4', '100.90.0.5', '100.90.0.6'];
  assert.throws(
    () => allocateAddress(block, used),
    (e: unknown) => (e as StationError).code === 'MESH_ADDRESSES_EXHAUSTED',
  );
});

test('node subnets: one /16 of a large pool per owner (by CA fingerprint), a small pool whole', () => {
  assert.is(ownerNodeBlock('10.160.0.0/11', '00ab'), '10.160.0.0/16');
  assert.is(ownerNodeBlock('10.160.0.0/11', '21ab'), '10.161.0.0/16');
  assert.is(ownerNodeBlock('10.160.0.0/11', 'ffab'), '10.191.0.0/16');
  assert.is(ownerNodeBlock('198.19.192.0/18', 'ffab'), '198.19.192.0/18');
  assert.throws(() => ownerNodeBlock('10.160.0.1/11', '00'), /host bits/);
  assert.throws(() => ownerNodeBlock('10.0.0.0/26', '00'), /between/);
});

test('each station gets the lowest free /24; revoked stations keep theirs, so none repeats', () => {
  assert.is(allocateNodeSubnet('10.161.0.0/16', []), '10.161.0.0/24');
  assert.is(allocateNodeSubnet('10.161.0.0/16', ['10.161.0.0/24', '10.161.2.0/24']), '10.161.1.0/24');
  const used: string[] = [];
  for (let i = 0; i < 64; i++) used.push(allocateNodeSubnet('198.19.192.0/18', used));
  assert.is(new Set(used).size, 64);
  assert.is(used.at(-1), '198.19.255.0/24');
  assert.throws(
    () => allocateNodeSubnet('198.19.192.0/18', used),
    (e: unknown) => (e as StationError).code === 'MESH_NODE_SUBNETS_EXHAUSTED',
  );
});

test('inCidr', () => {
  assert.ok(inCidr('100.127.255.254', '100.64.0.0/10'));
  assert.not.ok(inCidr('100.128.0.1', '100.64.0.0/10'));
  assert.not.ok(inCidr('198.18.0.1', '100.64.0.0/10'));
});

test('CIDR overlap and containment (the ranges CAs are compared by)', () => {
  assert.ok(cidrsOverlap('100.90.0.0/16', '100.64.0.0/10'));
  assert.ok(cidrsOverlap('10.170.5.0/24', '10.170.0.0/16'));
  assert.not.ok(cidrsOverlap('10.170.0.0/16', '10.171.0.0/16'));
  assert.ok(cidrWithin('100.90.0.0/16', '100.64.0.0/10'));
  assert.not.ok(cidrWithin('100.64.0.0/10', '100.90.0.0/16'));
  assert.not.ok(cidrWithin('0.0.0.0/0', '100.64.0.0/10'));
  assert.throws(() => cidrsOverlap('fd00::/8', '10.0.0.0/8'), /not an IPv4/);
});

test.run();
