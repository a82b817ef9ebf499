import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as nmcli from '../../../../hardware/wifi/nmcli-parse.ts';

const fx = (name: string) => readFileSync(new URL(`../../../fixtures/nmcli/${name}`, import.meta.url), 'utf8');

test('terse escaping: \\: and \\\\ inside values (recorded: a profile named "Cafe: Guest\\1")', () => {
  const saved = nmcli.parseConnections(fx('connection-show-escaped.stdout'));
  assert.equal(
    saved.map((c) => c.name),
    ['Cafe: Guest\\1', 'Home Net', 'station-setup-hotspot'],
  );
  assert.equal(nmcli.splitTerse('A4\\:2B\\:B0:x'), ['A4:2B:B0', 'x']);
});

test('saved connections (recorded): type, empty device, autoconnect, never used', () => {
  const [home, hotspot] = nmcli.parseConnections(fx('connection-show.stdout'));
  assert.equal(home, {
    name: 'Home Net',
    uuid: 'd08d5d5d-1f59-473b-94f8-8573caf99bc1',
    type: '802-11-wireless',
    device: null,
    autoconnect: true,
    lastUsed: null,
  });
  assert.is(hotspot!.autoconnect, false);
});

test('devices (recorded ethernet/loopback rows, plus a constructed wifi row)', () => {
  assert.equal(
    nmcli.parseDevices(fx('device-status.stdout')).map((d) => [d.device, d.type, d.state, d.connection]),
    [
      ['stpgcapa', 'ethernet', 'unmanaged', null],
      ['stpgcapb', 'ethernet', 'unmanaged', null],
      ['lo', 'loopback', 'unmanaged', null],
    ],
  );
  assert.equal(nmcli.parseDevices(fx('constructed/device-status-wifi-connected.stdout'))[0], {
    device: 'wlan0',
    type: 'wifi',
    state: 'connected',
    connection: 'Home Net',
  });
});

test('wifi list: one entry per SSID (the one in use, else the strongest), hidden dropped, strongest first', () => {
  const nets = nmcli.parseWifiList(fx('constructed/wifi-list.stdout'));
  assert.equal(
    nets.map((n) => n.ssid),
    ['Home Net', 'Cafe: Guest', 'Neighbours 5G', 'Back\\slash'],
  );
  assert.equal(nets[0], {
    ssid: 'Home Net',
    bssid: 'A4:2B:B0:C1:D2:E3',
    signal: 78,
    security: 'WPA2',
    frequencyMHz: 2437,
    channel: 6,
    inUse: true,
  });
  assert.is(nets[1]!.security, '', 'an open network has no security');
  assert.is(nets[2]!.security, 'WPA1 WPA2');
});

test('no radio (recorded): an empty list', () => {
  assert.equal(nmcli.parseWifiList(fx('wifi-list-no-radio.stdout')), []);
});

test('a line with the wrong number of fields is refused, not guessed at', () => {
  assert.throws(() => nmcli.parseTerse('a:b:c\n', nmcli.WIFI_LIST_FIELDS), /3 fields, expected 8/);
});

test('error messages (recorded) lose the "Error: " prefix', () => {
  assert.is(nmcli.nmcliError(fx('no-daemon.stderr')), 'Could not create NMClient object: Could not connect: No such file or directory.');
  assert.is(nmcli.nmcliError(fx('connection-delete-unknown.stderr')), "unknown connection 'Nope'.");
});

test('connection add names the profile it made (recorded); device show gives the IPv4 addresses (recorded)', () => {
  assert.is(nmcli.parseAddedUuid(fx('wifi-add-wpa-psk.stdout')), '41203118-37d1-44c5-9134-ae5b2b2555f1');
  assert.throws(() => nmcli.parseAddedUuid(''), /did not say which connection/);
  assert.equal(nmcli.parseIp4Addresses(fx('device-show-ip4.stdout')), ['198.18.201.1/24']);
  assert.equal(nmcli.parseIp4Addresses(fx('constructed/device-show-ip4-hotspot.stdout')), ['10.42.0.1/24']);
  assert.equal(nmcli.parseIp4Addresses(''), []);
});

test.run();
