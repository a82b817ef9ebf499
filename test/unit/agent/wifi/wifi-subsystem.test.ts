// The Wi-Fi subsystem against the nmcli DOUBLE (recorded nmcli output; see test/fixtures/nmcli):
// off with the reason when NetworkManager is missing; hotspot when nothing is up at boot; back to
// the saved network when it returns; list, connect and forget issue the right nmcli commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { WifiSubsystem } from '../../../../agent/wifi/wifi-subsystem.ts';
import { EventBus } from '../../../../agent/events.ts';
import { exec } from '../../../../agent/exec.ts';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../../../agent/errors.ts';
import { installNmcliDouble, type NmcliDouble } from '../../../doubles/nmcli-double.ts';
import { cleanupAll } from '../../../helpers/cleanup.ts';

let nm: NmcliDouble;
let now = 0;
const events = new EventBus();
const seen: string[] = [];
events.subscribe((e) => seen.push(`${e.type}:${JSON.stringify(e.data.mode ?? e.data.name ?? '')}`));

const make = () => new WifiSubsystem({ run: exec, events, log: pino({ level: 'silent' }), config: { name: 'den', wifiInterface: '', hotspotSsid: '', hotspotAfterSeconds: 120 }, now: () => now, observeMs: 3_600_000 });
const expectError = async (p: Promise<unknown>, type: Function): Promise<Error> => {
  try { await p; } catch (error) { assert.instance(error, type); return error as Error; }
  throw new assert.Assertion({ message: 'expected an error', operator: 'rejects', expects: type.name, actual: 'resolved', generated: false });
};

// The world, as nmcli reports it: device state, saved profiles, what the radio sees.
const world = (device: string, wifiList = 'wifi-list', extra: [string, string | object][] = []) => nm.scenario([
  ...extra as [string, string][],
  ['^-t -f DEVICE,TYPE,STATE,CONNECTION device status$', device],
  ['^-t -f NAME,UUID,TYPE,DEVICE,AUTOCONNECT,TIMESTAMP connection show$', 'connection-show'],
  ['^-t -f IN-USE,SSID,BSSID,MODE,CHAN,FREQ,SIGNAL,SECURITY device wifi list ifname wlan0 --rescan (yes|no)$', wifiList],
  ['^connection delete id station-setup-hotspot$', 'connection-delete'],
  ['^connection add type wifi ifname wlan0 con-name station-setup-hotspot ', 'hotspot-add'],
  ['^connection (up|down) id ', { stdout: '' }],
  ['^device wifi connect ', { stdout: '' }],
  ['^connection delete id Home Net$', { stdout: "Connection 'Home Net' (d08d5d5d-1f59-473b-94f8-8573caf99bc1) successfully deleted.\n" }],
]);

test.before(async () => { nm = await installNmcliDouble(); });
test.after(cleanupAll);

test('NetworkManager not running (recorded message): Wi-Fi is off with the reason, actions answer 503', async () => {
  await nm.scenario([['device status', 'no-daemon']]);
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  assert.is(wifi.health().state, 'off');
  assert.match(wifi.health().reason!, /Could not create NMClient object/);
  await expectError(wifi.networks(false), UnavailableError);
  await wifi.stop();
});

test('no Wi-Fi device (recorded device list): off, saying so', async () => {
  await nm.scenario([['device status', 'device-status']]);
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  assert.equal(wifi.health(), { state: 'off', reason: 'NetworkManager lists no Wi-Fi device: Wi-Fi onboarding is off' });
});

test('nothing up at boot: after the grace period the setup hotspot opens with the station name', async () => {
  now = 0;
  await world('device-status-wifi-disconnected');
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  assert.is(wifi.status().mode, 'waiting');
  now = 30_000;
  await wifi.observe();
  assert.is(wifi.status().mode, 'hotspot');
  assert.ok(wifi.hotspotActive);
  const calls = (await nm.calls()).map((c) => c.join(' '));
  assert.ok(calls.includes('connection add type wifi ifname wlan0 con-name station-setup-hotspot autoconnect no ssid den-setup 802-11-wireless.mode ap ipv4.method shared ipv6.method ignore'), calls.join('\n'));
  assert.ok(calls.includes('connection up id station-setup-hotspot'));
  assert.ok(seen.includes('wifi.mode:"hotspot"'));

  // The saved network is not in range: the hotspot stays.
  await world('device-status-wifi-hotspot', 'wifi-list-home-gone');
  now = 100_000;
  await wifi.observe();
  assert.is(wifi.status().mode, 'hotspot');

  // It returns: the hotspot goes down and the saved profile comes up.
  await world('device-status-wifi-hotspot', 'wifi-list');
  now = 200_000;
  await wifi.observe();
  assert.is(wifi.status().mode, 'connecting');
  const after = (await nm.calls()).map((c) => c.join(' '));
  assert.ok(after.includes('connection down id station-setup-hotspot'));
  assert.ok(after.includes('connection up id Home Net'));
  await world('device-status-wifi-connected');
  now = 205_000;
  await wifi.observe();
  assert.is(wifi.status().mode, 'client');
  assert.is(wifi.status().connection, 'Home Net');
  await wifi.stop();
});

test('list, connect, forget: networks strongest first; a bad password is refused before nmcli; a failed join reopens the hotspot', async () => {
  now = 0;
  await world('device-status-wifi-connected');
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  assert.is(wifi.status().mode, 'client');
  assert.equal((await wifi.networks(true)).map((n) => n.ssid), ['Home Net', 'Cafe: Guest', 'Neighbours 5G', 'Back\\slash']);
  const before = (await nm.calls()).length;
  await expectError(wifi.connect('Home Net', 'short'), ValidationError);
  assert.is((await nm.calls()).length, before, 'nothing was run for a refused request');

  await wifi.connect('Cafe: Guest');
  assert.equal((await nm.calls()).at(-1), ['device', 'wifi', 'connect', 'Cafe: Guest', 'ifname', 'wlan0']);

  // A join that fails (recorded nmcli error) comes back as 409 with nmcli's reason; the hotspot opens again.
  await world('device-status-wifi-disconnected', 'wifi-list', [['^device wifi connect ', 'wifi-connect-not-wifi']]);
  const error = await expectError(wifi.connect('Home Net', 'correct horse battery'), ConflictError);
  assert.match(error.message, /could not join Home Net: Device 'stpgcapa' is not a Wi-Fi device/);
  assert.is(wifi.status().mode, 'hotspot');

  await world('device-status-wifi-connected');
  await expectError(wifi.forget('Not Saved'), NotFoundError);
  await wifi.forget('Home Net');
  assert.equal((await nm.calls()).at(-2), ['connection', 'delete', 'id', 'Home Net']);
  await wifi.stop();
});

test('a reset (10 s button press) forgets saved networks and opens the hotspot', async () => {
  now = 0;
  await world('device-status-wifi-connected');
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  await wifi.resetNetwork();
  const calls = (await nm.calls()).map((c) => c.join(' '));
  assert.ok(calls.includes('connection delete id Home Net'));
  const forgot = calls.lastIndexOf('connection delete id Home Net');
  assert.ok(calls.lastIndexOf('connection up id station-setup-hotspot') > forgot, 'the hotspot came up after the networks were forgotten');
  assert.is(wifi.status().mode, 'hotspot');
  await wifi.stop();
});

test.run();
