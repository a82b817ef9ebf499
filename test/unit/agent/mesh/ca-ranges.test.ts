// Which other owners' CAs a station may trust (issue 11, finding 3): only CAs limited to the mesh
// network and to node subnets of their own, whose ranges overlap neither ours nor another trusted
// CA's. Read from captured real `nebula-cert print -json` output (test/fixtures/nebula/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { StationError } from '../../../../agent/errors.ts';
import { parseCertPrint, type CertInfo } from '../../../../agent/mesh/cert-info.ts';
import { assertTrustable, caLimitProblem, type CaRanges } from '../../../../agent/mesh/ca-ranges.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/nebula/${name}`, import.meta.url), 'utf8');
const limited = parseCertPrint(fixture('print-ca-limited.json'))[0]!;
const legacy = parseCertPrint(fixture('print-ca.json'))[0]!;
// 0x1a -> 100.(64 + 26).0.0/16
const own: CaRanges = { owner: 'alice', fingerprint: '1a'.repeat(32), block: '100.90.0.0/16', subnets: ['10.160.0.0/16'] };
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return `${(error as StationError).kind}:${(error as StationError).code}`;
  }
  return 'accepted';
};

test('a CA made with -ips and -subnets: its limits are read from nebula-cert print -json', () => {
  assert.equal(limited.ips, ['100.64.0.0/10']);
  assert.equal(limited.subnets, ['10.170.0.0/16']);
  assert.is(caLimitProblem(limited), null);
});

test('a CA made without limits (before this change) is called unlimited', () => {
  assert.match(caLimitProblem(legacy)!, /no ips limit/);
});

test('a limited CA with its own ranges is trusted: its range is the /16 of its fingerprint and its subnets limit', () => {
  const ranges = assertTrustable(limited, 'bob', own, []);
  assert.equal(ranges, { owner: 'bob', fingerprint: limited.fingerprint, block: '100.127.0.0/16', subnets: ['10.170.0.0/16'] });
});

test('unlimited CAs are refused (400): no ips, ips beyond the mesh, no subnets, subnets inside the mesh', () => {
  const variant = (change: Partial<CertInfo>): CertInfo => ({ ...limited, ...change });
  assert.is(
    code(() => assertTrustable(legacy, 'bob', own, [])),
    'invalid:MESH_CA_UNLIMITED',
  );
  assert.is(
    code(() => assertTrustable(variant({ ips: ['0.0.0.0/0'] }), 'bob', own, [])),
    'invalid:MESH_CA_UNLIMITED',
  );
  assert.is(
    code(() => assertTrustable(variant({ ips: ['100.64.0.0/10', '192.168.1.0/24'] }), 'bob', own, [])),
    'invalid:MESH_CA_UNLIMITED',
  );
  assert.is(
    code(() => assertTrustable(variant({ subnets: [] }), 'bob', own, [])),
    'invalid:MESH_CA_UNLIMITED',
  );
  assert.is(
    code(() => assertTrustable(variant({ subnets: ['100.90.0.0/16'] }), 'bob', own, [])),
    'invalid:MESH_CA_UNLIMITED',
  );
  assert.is(
    code(() => assertTrustable(variant({ isCa: false }), 'bob', own, [])),
    'invalid:MESH_CA_INVALID',
  );
});

test("a CA whose ranges overlap ours or another trusted CA's is refused (409)", () => {
  assert.is(
    code(() => assertTrustable(limited, 'bob', { ...own, block: '100.127.0.0/16' }, [])),
    'conflict:MESH_CA_OVERLAP',
  );
  assert.is(
    code(() => assertTrustable(limited, 'bob', { ...own, subnets: ['10.170.5.0/24'] }, [])),
    'conflict:MESH_CA_OVERLAP',
  );
  const carol: CaRanges = { owner: 'carol', fingerprint: 'cc'.repeat(32), block: '100.76.0.0/16', subnets: ['10.0.0.0/8'] };
  assert.throws(() => assertTrustable(limited, 'bob', own, [carol]), /carol/);
  const dave: CaRanges = { owner: 'dave', fingerprint: 'dd'.repeat(32), block: '100.127.0.0/16', subnets: ['10.190.0.0/16'] };
  assert.is(
    code(() => assertTrustable(limited, 'bob', own, [dave])),
    'conflict:MESH_CA_OVERLAP',
  );
});

test('trusting the same CA again (to change what it may reach) does not overlap with itself', () => {
  const before = assertTrustable(limited, 'bob', own, []);
  assert.equal(assertTrustable(limited, 'bob', own, [before]), before);
});

test.run();
