// HOST:PORT of a Nebula endpoint (issue 11, finding 11): what a joining station, a trusted owner or
// a directory says goes into every station's nebula.yml, so it is checked strictly: an IPv4 or
// bracketed IPv6 literal or a DNS name, and a port 1..65535; nothing else, no YAML in disguise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StationError } from '../../../../agent/errors.ts';
import { assertEndpoint, isEndpoint } from '../../../../agent/mesh/endpoint.ts';

test('IPv4 and IPv6 literals and DNS names, with a port 1..65535', () => {
  for (const ok of [
    '198.18.0.1:4242',
    '198.18.0.1:1',
    '198.18.0.1:65535',
    '[2001:db8::1]:4242',
    '[::ffff:198.18.0.1]:4242',
    'home.example.org:4242',
    'Station-1.Example:4242',
    'localhost:4242',
  ]) {
    assert.ok(isEndpoint(ok), ok);
  }
});

test('ports out of range, missing parts and anything that could carry YAML are refused', () => {
  for (const bad of [
    '198.18.0.1:0',
    '198.18.0.1:65536',
    '198.18.0.1:99999',
    '198.18.0.1:04242',
    '198.18.0.1',
    '198.18.0.1:',
    ':4242',
    '198.18.0.1:42 42',
    '256.1.1.1:4242',
    '1.2.3:4242',
    '2001:db8::1:4242',
    '[2001:db8::1]',
    '[not-ipv6]:4242',
    '-bad.example:4242',
    'bad-.example:4242',
    'a..b:4242',
    `${'a'.repeat(64)}.example:4242`,
    'host_name:4242',
    'host:4242:1',
    '198.18.0.1:4242\n  am_lighthouse: true',
    '"198.18.0.1:4242"',
    "198.18.0.1:4242'",
    '198.18.0.1:4242 # x',
    'h\u0085ost:4242',
    '',
    ' 198.18.0.1:4242',
  ]) {
    assert.not.ok(isEndpoint(bad), JSON.stringify(bad));
  }
});

test('assertEndpoint says what is wrong and where it came from', () => {
  try {
    assertEndpoint('198.18.0.1:99999', "the joining station's endpoint");
    assert.unreachable();
  } catch (error) {
    assert.is((error as StationError).code, 'MESH_ENDPOINT_INVALID');
    assert.match((error as Error).message, /joining station's endpoint "198\.18\.0\.1:99999".*port must be 1\.\.65535/);
  }
});

test.run();
