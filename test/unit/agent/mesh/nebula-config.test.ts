// Golden files: the exact Nebula config each kind of station gets. Regenerate deliberately with
// UPDATE_GOLDEN=1 after checking the difference is intended.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderNebulaConfig, type NebulaConfigInput, type NebulaFirewallEntry } from '../../../../agent/mesh/nebula-config.ts';

const GOLDEN = new URL('../../../fixtures/nebula/golden/', import.meta.url).pathname;
const OWN_CA = 'a73aeb9e4dd68162919a97289f01bef1f47ce2d6397badc33676a1dea8731488';
const base: NebulaConfigInput = {
  caFile: '/var/lib/station/mesh/ca-bundle.crt',
  certFile: '/var/lib/station/mesh/host.crt',
  keyFile: '/var/lib/station/mesh/host.key',
  listenPort: 4242,
  tunDev: 'nb2sh',
  amLighthouse: false,
  selfAddress: '100.103.0.4',
  lighthouses: [{ address: '100.103.0.1', endpoints: ['198.18.0.1:4242'] }],
  blocklist: [],
  ownCaFingerprint: OWN_CA,
  apiPort: 8088,
  trusted: [],
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

test("stations report to the lighthouses every 10 s, so a lighthouse restarted for a new member's routes soon knows them and their relays again", () => {
  // A restarted lighthouse has forgotten every station until that station's next report; with
  // 60 s, a station behind double NAT could not be found through a relay for up to a minute after
  // each join (the join restarts every lighthouse: Nebula 1.6 cannot reload routes).
  assert.match(renderNebulaConfig(base), /\nlighthouse:\n(?: {2}.*\n)*? {2}interval: 10\n/);
});

test("other members' node subnets are routed to them through the tunnel (sorted); none, no key", () => {
  const text = renderNebulaConfig({
    ...base,
    unsafeRoutes: [
      { route: '10.170.2.0/24', via: '100.103.0.3' },
      { route: '10.170.0.0/24', via: '100.103.0.1' },
    ],
  });
  golden('routes', text);
  assert.match(
    text,
    /unsafe_routes:\n {4}- route: "10\.170\.0\.0\/24"\n {6}via: "100\.103\.0\.1"\n {4}- route: "10\.170\.2\.0\/24"\n {6}via: "100\.103\.0\.3"/,
  );
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
    ...base,
    blocklist: ['ff00', '00aa'],
    trusted: [
      {
        fingerprint: 'bb'.repeat(32),
        allow: [
          { port: '80', proto: 'tcp' },
          { port: '53', proto: 'udp' },
        ],
        ranges: ['100.70.0.0/16'],
      },
    ],
    lighthouses: [...base.lighthouses, { address: '100.70.0.1', endpoints: ['198.18.0.9:4242'] }],
  });
  golden('community', text);
  assert.ok(text.indexOf('"00aa"') < text.indexOf('"ff00"'));
  assert.match(text, /port: "80"\n\s+proto: "tcp"\n\s+cidr: "100\.70\.0\.0\/16"\n\s+ca_sha: "bbbb/);
});

test('node policies from the Network Node are merged under firewall inbound/outbound', () => {
  const text = renderNebulaConfig({
    ...base,
    nodes: {
      inbound: [
        { port: '80', proto: 'tcp', group: 'owner-alice' },
        { port: '81', proto: 'tcp', group: 'owner-mallory' },
        { port: '53', proto: 'udp', host: 'any', local_cidr: undefined },
      ],
      outbound: [{ port: '443', proto: 'tcp', cidr: '100.70.0.0/16' }],
    },
    trusted: [{ fingerprint: 'bb'.repeat(32), allow: [], ranges: ['100.70.0.0/16'] }],
    ownerCas: { alice: OWN_CA, bob: 'bb'.repeat(32) },
  });
  golden('nodes', text);
  assert.match(
    text,
    new RegExp(`- port: "80"\\n\\s+proto: "tcp"\\n\\s+group: "owner-alice"\\n\\s+ca_sha: "${OWN_CA}"`),
    "an owner group is bound to that owner's CA",
  );
  assert.not.match(text, /owner-mallory/, 'an owner this station does not trust gets nothing');
  assert.not.match(text, /local_cidr/, 'undefined keys are left out');
  assert.match(text, /- port: "53"\n\s+proto: "udp"\n\s+cidr: "100\.70\.0\.0\/16"\n\s+ca_sha: "bbbb/, "a rule for anyone is bound to each trusted CA's ranges");
  assert.match(
    text,
    new RegExp(
      String.raw`outbound:\n {4}- port: "any"\n\s+proto: "any"\n\s+ca_sha: "a73a[^\n]+\n` +
        String.raw` {4}- port: "any"\n\s+proto: "any"\n\s+cidr: "100\.70\.0\.0\/16"\n\s+ca_sha: "bbbb[^\n]+\n {4}- port: "443"`,
    ),
  );
});

test('rendering is deterministic: the same state gives the same text (no needless reloads)', () => {
  assert.is(renderNebulaConfig(base), renderNebulaConfig(structuredClone(base)));
});

test('values cannot change the document shape (strings are quoted)', () => {
  const text = renderNebulaConfig({ ...base, tunDev: 'x\n  am_lighthouse: true' });
  assert.match(text, /dev: "x\\n {2}am_lighthouse: true"/);
  assert.is(text.match(/^\s*am_lighthouse:/gm)!.length, 1, 'only the real key');
});

// Issue 11, finding 11: endpoints and lighthouse addresses come from other stations; the renderer
// is the last line: whatever reached the state, only well-formed entries reach nebula.yml, and every
// string is a YAML double-quoted scalar with everything beyond printable ASCII escaped (go-yaml, a
// YAML 1.1 reader, takes U+0085/U+2028 for line breaks and refuses C1 control characters).
test('a lighthouse with a malformed endpoint or address never reaches the config', () => {
  const text = renderNebulaConfig({
    ...base,
    lighthouses: [
      { address: '100.103.0.1', endpoints: ['198.18.0.1:4242', '198.18.0.7:99999', '198.18.0.8:4242"\n  am_lighthouse: true'] },
      { address: '100.103.0.9\n  am_lighthouse: true', endpoints: ['198.18.0.9:4242'] },
      { address: '10.0.0.1', endpoints: ['198.18.0.10:4242'] },
    ],
  });
  assert.match(
    text,
    /static_host_map:\n {2}"100\.103\.0\.1":\n {4}- "198\.18\.0\.1:4242"\nlighthouse:/,
    'only the well-formed endpoint of the well-formed lighthouse',
  );
  assert.match(text, /hosts:\n {4}- "100\.103\.0\.1"\n {2}local/);
  assert.is(text.match(/am_lighthouse/g)!.length, 1);
});

test('YAML strings escape everything beyond printable ASCII', () => {
  const text = renderNebulaConfig({ ...base, tunDev: 'x\u0085y\u2028z\u007f\u00e9\u{1F600}' });
  assert.ok(
    text.includes('dev: "x\\u0085y\\u2028z\\u007F\\u00E9\\U0001F600"'),
    text.split('\n').find((l) => l.includes('dev:')),
  );
  assert.ok(/^[\x20-\x7e\n]*$/.test(text), 'the whole document is printable ASCII');
});

// Issue 11, finding 3: another owner's CA may sign any mesh address (Nebula 1.6 cannot limit a CA to
// a /16 of the /10 its certificates carry), so every rule that admits its stations names that CA
// (ca_sha) AND its ranges (cidr): its /16 and its node subnets. A certificate of Bob's CA carrying
// one of Alice's addresses matches no rule but ping.
const BOB = 'bb'.repeat(32);
const community: NebulaConfigInput = {
  ...base,
  trusted: [{ fingerprint: BOB, allow: [{ port: '9000', proto: 'tcp' }], ranges: ['100.70.0.0/16', '10.170.0.0/16'] }],
  ownerCas: { alice: OWN_CA, bob: BOB },
};
/** The firewall entries of a rendered config (the YAML writer's layout: "- key: value" lines). */
function entries(text: string, direction: 'inbound' | 'outbound'): Record<string, string>[] {
  const section = text.split(`  ${direction}:\n`)[1]!.split(/\n {2}\S/)[0]!;
  return section
    .split(/\n? {4}- /)
    .filter(Boolean)
    .map((chunk) =>
      Object.fromEntries(
        chunk
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => /(\w+): "(.*)"/.exec(l)!.slice(1, 3) as [string, string]),
      ),
    );
}

/** A tcp rule for `port` bound to Bob's CA at each of his two ranges (his mesh /16 and his node block). */
const atBobsRanges = (port: string) => [
  { port, proto: 'tcp', cidr: '100.70.0.0/16', ca_sha: BOB },
  { port, proto: 'tcp', cidr: '10.170.0.0/16', ca_sha: BOB },
];

test('the station API is open to another owner only from its own ranges, bound to its CA', () => {
  const inbound = entries(renderNebulaConfig(community), 'inbound');
  assert.equal(
    inbound.filter((e) => e.host === 'any'),
    [{ port: 'any', proto: 'icmp', host: 'any' }],
    'only ping is open to any certificate of any CA',
  );
  for (const port of ['8088', '9000'])
    assert.equal(
      inbound.filter((e) => e.port === port),
      atBobsRanges(port),
      port,
    );
  assert.ok(
    inbound.every((e) => e.proto === 'icmp' || e.ca_sha),
    'every other rule names a CA',
  );
});

test("outbound: our own CA for everything, another owner's CA only at its own ranges (no hijacked tunnel carries our traffic)", () => {
  assert.equal(entries(renderNebulaConfig(community), 'outbound'), [
    { port: 'any', proto: 'any', ca_sha: OWN_CA },
    { port: 'any', proto: 'any', cidr: '100.70.0.0/16', ca_sha: BOB },
    { port: 'any', proto: 'any', cidr: '10.170.0.0/16', ca_sha: BOB },
  ]);
});

test('node rules are bound to each trusted CA and its ranges: "mesh", owners, CIDRs', () => {
  // Each node rule next to the entries it must become for Bob's CA (and why, where that is not plain).
  const cases: [NebulaFirewallEntry, Record<string, string>[], string?][] = [
    [{ port: '80', proto: 'tcp', host: 'any' }, atBobsRanges('80')],
    [{ port: '81', proto: 'tcp', group: 'owner-bob' }, atBobsRanges('81')],
    [{ port: '82', proto: 'tcp', cidr: '100.90.0.7/32' }, [], 'our own address: only our CA (which reaches everything) may use it'],
    [{ port: '83', proto: 'tcp', cidr: '100.70.3.0/24' }, [{ port: '83', proto: 'tcp', cidr: '100.70.3.0/24', ca_sha: BOB }]],
    [{ port: '84', proto: 'tcp', group: 'lighthouse' }, [{ port: '84', proto: 'tcp', group: 'lighthouse', ca_sha: BOB }]],
  ];
  const text = renderNebulaConfig({
    ...community,
    nodes: { inbound: cases.map(([rule]) => rule), outbound: [{ port: '443', proto: 'tcp', cidr: '100.64.0.0/10' }] },
  });
  const inbound = entries(text, 'inbound');
  for (const [rule, expected, why] of cases)
    assert.equal(
      inbound.filter((e) => e.port === rule.port),
      expected,
      why ?? rule.port,
    );
  assert.equal(
    entries(text, 'outbound').filter((e) => e.port === '443'),
    [{ port: '443', proto: 'tcp', cidr: '100.70.0.0/16', ca_sha: BOB }],
  );
});

test.run();
