// Which Host and Origin headers a request may carry (agent/auth/host-guard.ts): the station's own
// names and addresses only, so a web page whose name was rebound to the station cannot use it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { networkInterfaces, hostname } from 'node:os';
import { parseHost, stationHostNames, HostGuard } from '../../../../agent/auth/host-guard.ts';

const CONFIG = {
  name: 'den',
  domain: 'mesh.internal',
  httpHost: '0.0.0.0',
  httpAllowedHosts: '',
  meshPublicApi: '',
  meshPublicEndpoint: '',
};

test('parseHost: names lower-cased without port or trailing dot, IPv6 without brackets, malformed refused', () => {
  assert.is(parseHost('Den.Local:8088'), 'den.local');
  assert.is(parseHost('den.local.'), 'den.local');
  assert.is(parseHost('den.local.:80'), 'den.local');
  assert.is(parseHost('192.168.1.20:8088'), '192.168.1.20');
  assert.is(parseHost('[::1]:8088'), '::1');
  assert.is(parseHost('[FE80::0:1%25eth0]'), 'fe80::1', 'zone dropped, address in canonical form');
  assert.is(parseHost('[0:0:0:0:0:0:0:1]'), '::1');
  for (const bad of ['', 'evil.example@den.local', 'den.local/x', 'den local', '[::1', '[not-an-address]', 'den.local:80:80', 'den..local', ':8088']) {
    assert.is(parseHost(bad), undefined, JSON.stringify(bad));
  }
});

test('the station answers to its name, NAME.local, NAME.<domain>, localhost and the configured extras', () => {
  const names = stationHostNames(
    {
      ...CONFIG,
      httpHost: '198.18.7.1',
      httpAllowedHosts: 'box.home.arpa, *.lan.example',
      meshPublicApi: 'https://den.example.net:8443/',
      meshPublicEndpoint: 'lh.example.org:4242',
    },
    'den-box',
  );
  for (const n of [
    'den',
    'den.local',
    'den.mesh.internal',
    'localhost',
    'den-box',
    'den-box.local',
    '198.18.7.1',
    'box.home.arpa',
    '*.lan.example',
    'den.example.net',
    'lh.example.org',
  ]) {
    assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
  }
  assert.not.ok(names.includes('0.0.0.0'), 'a wildcard listen address is no name');
});

test('a guard accepts own names and every address of this machine, refuses foreign ones', () => {
  const guard = new HostGuard({ names: stationHostNames({ ...CONFIG, httpAllowedHosts: '*.lan.example' }, 'den') });
  for (const ok of [
    'den',
    'den:8088',
    'DEN.LOCAL',
    'den.mesh.internal:80',
    'localhost:8088',
    '127.0.0.1:8088',
    '[::1]:8088',
    'a.lan.example',
    'b.c.lan.example:80',
    undefined,
  ]) {
    assert.ok(guard.allowsHost(ok), `${ok} allowed`);
  }
  for (const address of Object.values(networkInterfaces()).flat()) {
    if (!address) continue;
    const literal = address.family === 'IPv6' ? `[${address.address}]:8088` : `${address.address}:8088`;
    assert.ok(guard.allowsHost(literal), `${literal} (an address of ${hostname()}) allowed`);
  }
  for (const bad of [
    'evil.example',
    'den.evil.example',
    'den.local.evil.example',
    'lan.example',
    'localhost.evil.example',
    '203.0.113.9',
    '[2001:db8::1]:8088',
    'evil.example@den',
    '',
  ]) {
    assert.not.ok(guard.allowsHost(bad), `${bad} refused`);
  }
});

test('dynamic names (mesh address, the mDNS name actually announced) and new addresses are picked up', () => {
  // Test double for the interface list: a real address cannot be added to this machine here.
  let now = 0;
  let addresses = [{ address: '127.0.0.1', family: 'IPv4' }];
  let mesh: string | null = null;
  const guard = new HostGuard({
    names: ['den'],
    dynamicNames: [
      () => mesh,
      () => 'den-2.local',
      () => {
        throw new Error('mesh not started');
      },
    ],
    interfaces: () => ({ lo: addresses as never }),
    now: () => now,
  });
  assert.ok(guard.allowsHost('den-2.local'));
  assert.not.ok(guard.allowsHost('100.64.0.7'));
  assert.not.ok(guard.allowsHost('198.18.3.4:8088'));
  mesh = '100.64.0.7';
  addresses = [...addresses, { address: '198.18.3.4', family: 'IPv4' }];
  now += 1500; // a miss looks again at most once a second
  assert.ok(guard.allowsHost('100.64.0.7'));
  assert.ok(guard.allowsHost('198.18.3.4:8088'));
  addresses = [{ address: '127.0.0.1', family: 'IPv4' }];
  now += 60_000; // an address that went away stops being accepted after the cache's life
  assert.not.ok(guard.allowsHost('198.18.3.4:8088'));
});

test('Origin: allowed only when its host is; "null" and malformed origins refused', () => {
  const guard = new HostGuard({ names: stationHostNames(CONFIG, 'den') });
  for (const ok of ['http://den.local:8088', 'https://den', 'http://127.0.0.1:8088', 'http://[::1]:8088', 'http://localhost'])
    assert.ok(guard.allowsOrigin(ok), ok);
  for (const bad of [
    'http://evil.example',
    'http://den.local.evil.example:8088',
    'null',
    'den.local',
    'file://',
    'http://evil.example@den.local',
    'ftp://den.local',
    '',
  ])
    assert.not.ok(guard.allowsOrigin(bad), bad);
});

test.run();
