import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validatePolicies, POLICY_ERROR_CODE } from '../../../../agent/network/validate.ts';
import { ValidationError } from '../../../../agent/errors.ts';

function rejects(policies: Record<string, unknown>, message: RegExp): void {
  try {
    validatePolicies(policies, { reservedPorts: [8088, 53] });
  } catch (error) {
    assert.instance(error, ValidationError);
    assert.is((error as ValidationError).code, POLICY_ERROR_CODE);
    assert.match((error as Error).message, message);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(policies)}`);
}

test('the contract example is valid', () => {
  const policy = {
    egress: [
      { to: 'node:b', ports: [80] },
      { to: 'internet', ports: [443] },
      { to: '198.18.0.0/16', ports: [53], proto: 'udp' },
    ],
    ingress: [
      { from: 'lan', ports: [80] },
      { from: 'node:a', ports: [80] },
    ],
    expose: [{ port: 8080, to: 80, on: 'lan' }],
  };
  const out = validatePolicies({ a: {}, c: policy });
  assert.equal(out.c, policy);
});

test('every peer word the issue names is accepted where it belongs', () => {
  validatePolicies({
    a: {
      egress: ['lan', 'mesh', 'internet', 'station', 'node:b', 'owner:alice', 'group:ops', '10.0.0.0/8', '198.18.1.1'].map((to) => ({
        to,
      })),
      ingress: ['lan', 'mesh', 'node:b', 'owner:alice', 'group:ops', '100.64.0.0/10'].map((from) => ({ from })),
    },
  });
});

test('a node name that cannot be one', () =>
  rejects({ a: { egress: [{ to: 'node:Ghost_1' }] } }, /node "a": \/egress\/0\/to: "Ghost_1" is not a valid node name/));
test('bad CIDR: prefix', () => rejects({ a: { egress: [{ to: '10.0.0.0/33' }] } }, /prefix must be 0 to 32/));
test('bad CIDR: octet', () => rejects({ a: { ingress: [{ from: '10.0.300.0/24' }] } }, /not an IPv4 CIDR/));
test('bad CIDR: host bits', () => rejects({ a: { egress: [{ to: '198.18.0.1/16' }] } }, /host bits set; did you mean 198\.18\.0\.0\/16/));
test('port 0', () => rejects({ a: { egress: [{ to: 'internet', ports: [0] }] } }, /port 0 is out of range/));
test('port above 65535', () => rejects({ a: { ingress: [{ from: 'lan', ports: [65536] }] } }, /port 65536 is out of range/));
test('expose port out of range', () => rejects({ a: { expose: [{ port: 70000, to: 80, on: 'lan' }] } }, /port 70000 is out of range/));
test('unknown keyword', () => rejects({ a: { egress: [{ to: 'everywhere' }] } }, /unknown keyword "everywhere"/));
test('unknown peer kind', () => rejects({ a: { egress: [{ to: 'host:x' }] } }, /unknown peer kind "host:"/));
test('unknown field', () => rejects({ a: { egress: [{ to: 'lan', port: 80 }] } }, /unknown field/));
test('unknown proto', () => rejects({ a: { egress: [{ to: 'lan', proto: 'icmp' }] } }, /proto must be "tcp" or "udp"/));
test('internet is no ingress source', () => rejects({ a: { ingress: [{ from: 'internet' }] } }, /cannot be used for ingress/));
test('the same station port exposed twice', () =>
  rejects({ a: { expose: [{ port: 8080, to: 80, on: 'lan' }] }, b: { expose: [{ port: 8080, to: 81, on: 'lan' }] } }, /already exposed by node "a"/));
test("the API port can't be exposed", () => rejects({ a: { expose: [{ port: 8088, to: 80, on: 'lan' }] } }, /reserved/));
test('an alias claimed by two nodes', () => rejects({ a: { aliases: ['www'] }, b: { aliases: ['www'] } }, /alias "www" is already claimed by node "a"/));

test('the same port on lan and on mesh, or tcp and udp, are different exposures', () => {
  validatePolicies({
    a: {
      expose: [
        { port: 8080, to: 80, on: 'lan' },
        { port: 8080, to: 80, on: 'mesh' },
        { port: 8080, to: 80, on: 'lan', proto: 'udp' },
      ],
    },
  });
});

test('nodes that name each other, or nodes not made yet, are accepted', () => {
  validatePolicies({ a: { egress: [{ to: 'node:b' }] }, b: { ingress: [{ from: 'node:a' }] } });
  validatePolicies({ a: { egress: [{ to: 'node:ghost' }] } });
});

test.run();
