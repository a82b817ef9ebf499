import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cidrContains, cidrsOverlap, cidrWithin, intToIpv4, ipv4ToInt, parseCidr } from '../../../../agent/lib/ipv4.ts';
import { inCidr, cidrsOverlap as meshOverlap } from '../../../../agent/mesh/addresses.ts';
import { ipToInt as nodeIpToInt } from '../../../../agent/nodes/ipam.ts';
import { parsePeer } from '../../../../agent/network/peer.ts';
import { ValidationError } from '../../../../agent/errors.ts';

test('addresses round-trip; anything that is not four decimal parts of 0-255 is no address', () => {
  assert.is(intToIpv4(ipv4ToInt('198.18.0.1')!), '198.18.0.1');
  assert.is(ipv4ToInt('255.255.255.255'), 0xffffffff);
  for (const bad of ['1.2.3', '1.2.3.256', '1..2.3', '1e2.0.0.1', ' 1.2.3.4', '1.2.3.4.5', '']) assert.is(ipv4ToInt(bad), null, bad);
});

test('a CIDR comes back canonical, or with a problem in words', () => {
  assert.equal(parseCidr('10.0.0.0/8'), { cidr: '10.0.0.0/8', base: 0x0a000000, prefix: 8 });
  assert.equal(parseCidr('10.1.2.3'), { cidr: '10.1.2.3/32', base: 0x0a010203, prefix: 32 });
  assert.match((parseCidr('10.1.0.0/8') as { problem: string }).problem, /host bits set; did you mean 10.0.0.0\/8/);
  assert.match((parseCidr('10.0.0.0/33') as { problem: string }).problem, /prefix must be 0 to 32/);
});

test('containment and overlap', () => {
  assert.ok(cidrContains('100.64.0.0/10', '100.127.255.255'));
  assert.not.ok(cidrContains('100.64.0.0/10', '100.128.0.0'));
  assert.ok(cidrsOverlap('10.0.0.0/8', '10.1.0.0/16'));
  assert.not.ok(cidrsOverlap('10.0.0.0/16', '10.1.0.0/16'));
  assert.ok(cidrWithin('10.1.0.0/16', '10.0.0.0/8'));
  assert.not.ok(cidrWithin('10.0.0.0/8', '10.1.0.0/16'));
  assert.not.ok(cidrsOverlap('nonsense', '10.0.0.0/8'));
});

test('each room keeps its own error for a bad address', () => {
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof ValidationError && pattern.test((e as Error).message);
  assert.throws(() => inCidr('1.2.3', '100.64.0.0/10'), refused(/not an IPv4 address: "1\.2\.3"/));
  assert.throws(
    () => meshOverlap('10.0.0.0/99', '10.0.0.0/8'),
    (e: unknown) => e instanceof ValidationError && /not an IPv4 CIDR/.test((e as Error).message),
  );
  assert.throws(
    () => nodeIpToInt('10.0.0'),
    (e: unknown) => e instanceof ValidationError && (e as Error).message === '10.0.0 is not an IPv4 address',
  );
  assert.equal(parsePeer('10.0.0.1/8'), { problem: '"10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?' });
});

test.run();
