// Golden files: the exact Nebula config each kind of station gets. Regenerate deliberately with
// UPDATE_GOLDEN=1 after checking the difference is intended.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderNebulaConfig, type NebulaConfigInput } from '../../../../agent/mesh/nebula-config.ts';

const GOLDEN = new URL('../../../fixtures/nebula/golden/', import.meta.url).pathname;
const OWN_CA = 'a73aeb9e4dd68162919a97289f01bef1f47ce2d6397badc33676a1dea8731488';
const base: NebulaConfigInput = {
  caFile: '/var/lib/station/mesh/ca-bundle.crt', certFile: '/var/lib/station/mesh/host.crt', keyFile: '/var/lib/station/mesh/host.key',
  listenPort: 4242, tunDev: 'nb2sh', amLighthouse: false, selfAddress: '100.103.0.4',
  lighthouses: [{ address: '100.103.0.1', endpoints: ['198.18.0.1:4242'] }], blocklist: [], ownCaFingerprint: OWN_CA, apiPort: 8088, trusted: [],
  unadvertised: ['10.134.0.0/24'],
};

function golden(name: string, text: string): void {
  const file = `${GOLDEN}${name}.yml`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  assert.fixture(text, readFileSync(file, 'utf8'), `${name}.yml differs from its golden file`);
}

test('a member behind NAT: lighthouse host, static map, relays through the lighthouse', () => {
  const text = renderNebulaConfig(base);
  golden('member', text);
  assert.match(text, /hosts:\n {4}- "100\.103\.0\.1"/);
  assert.match(text, /am_relay: false/);
  assert.match(text, /local_allow_list:\n {4}"10\.134\.0\.0\/24": false/, 'the node bridge is not advertised');
});

test('other members\' node subnets are routed to them through the tunnel (sorted); none, no key', () => {
  const text = renderNebulaConfig({ ...base, unsafeRoutes: [{ route: '10.170.2.0/24', via: '100.103.0.3' }, { route: '10.170.0.0/24', via: '100.103.0.1' }] });
  golden('routes', text);
  assert.match(text, /unsafe_routes:\n {4}- route: "10\.170\.0\.0\/24"\n {6}via: "100\.103\.0\.1"\n {4}- route: "10\.170\.2\.0\/24"\n {6}via: "100\.103\.0\.3"/);
  assert.not.match(renderNebulaConfig(base), /unsafe_routes/);
});

test('a lighthouse leaves itself out of hosts and relays, and relays for others', () => {
  const text = renderNebulaConfig({ ...base, amLighthouse: true, selfAddress: '100.103.0.1' });
  golden('lighthouse', text);
  assert.match(text, /am_lighthouse: true/);
  assert.match(text, /am_relay: true/);
  assert.not.match(text, /"100\.103\.0\.1":/);
});

test('revoked certificates and trusted owners: blocklist sorted, other CAs limited to what they are allowed', () => {
  const text = renderNebulaConfig({
    ...base, blocklist: ['ff00', '00aa'],
    trusted: [{ fingerprint: 'bb'.repeat(32), allow: [{ port: '80', proto: 'tcp' }, { port: '53', proto: 'udp' }] }],
    lighthouses: [...base.lighthouses, { address: '100.70.0.1', endpoints: ['198.18.0.9:4242'] }],
  });
  golden('community', text);
  assert.ok(text.indexOf('"00aa"') < text.indexOf('"ff00"'));
  assert.match(text, /port: "80"\n\s+proto: "tcp"\n\s+host: "any"\n\s+ca_sha: "bbbb/);
});

test('node policies from the Network Node are merged under firewall inbound/outbound', () => {
  const text = renderNebulaConfig({
    ...base,
    nodes: {
      inbound: [{ port: '80', proto: 'tcp', group: 'owner-alice' }, { port: '81', proto: 'tcp', group: 'owner-mallory' }, { port: '53', proto: 'udp', host: 'any', local_cidr: undefined }],
      outbound: [{ port: '443', proto: 'tcp', cidr: '100.70.0.0/16' }],
    },
    ownerCas: { alice: OWN_CA },
  });
  golden('nodes', text);
  assert.match(text, new RegExp(`- port: "80"\\n\\s+proto: "tcp"\\n\\s+group: "owner-alice"\\n\\s+ca_sha: "${OWN_CA}"`), 'an owner group is bound to that owner\'s CA');
  assert.not.match(text, /owner-mallory/, 'an owner this station does not trust gets nothing');
  assert.not.match(text, /local_cidr/, 'undefined keys are left out');
  assert.match(text, /outbound:\n {4}- port: "any"\n\s+proto: "any"\n\s+host: "any"\n {4}- port: "443"/);
});

test('rendering is deterministic: the same state gives the same text (no needless reloads)', () => {
  assert.is(renderNebulaConfig(base), renderNebulaConfig(structuredClone(base)));
});

test('values cannot change the document shape (strings are quoted)', () => {
  const text = renderNebulaConfig({ ...base, tunDev: 'x\n  am_lighthouse: true' });
  assert.match(text, /dev: "x\\n {2}am_lighthouse: true"/);
  assert.is(text.match(/^\s*am_lighthouse:/gm)!.length, 1, 'only the real key');
});

test.run();
