// The Wi-Fi subsystem against the nmcli DOUBLE (recorded nmcli output; see test/fixtures/nmcli):
// off with the reason when NetworkManager is missing; hotspot when nothing is up at boot; back to
// the saved network when it returns; list, connect and forget issue the right nmcli commands.
import { test } from '../../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { WifiSubsystem } from '../../../../agent/wifi/wifi-subsystem.ts';
import { EventBus } from '../../../../agent/events.ts';
import { exec } from '../../../../agent/exec.ts';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../../../agent/errors.ts';
import { existsSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotspotScenario, installNmcliDouble, type NmcliDouble, type NmcliRule } from '../../../doubles/nmcli-double.ts';
import { cleanupAll, onCleanup } from '../../../helpers/cleanup.ts';
import { rejectsWith } from '../../../helpers/rejects.ts';

let nm: NmcliDouble;
let now = 0;
const events = new EventBus();
const seen: string[] = [];
events.subscribe((e) => seen.push(`${e.type}:${JSON.stringify('mode' in e.data ? e.data.mode : 'name' in e.data ? e.data.name : '')}`));

// Routing tables recorded in a namespace (test/fixtures/default-route): none, ipv4-default, ipv6-default.
const procNet = (name: string) => fileURLToPath(new URL(`../../../fixtures/default-route/${name}/`, import.meta.url));
let stateDir = '';
const make = (routes = 'none') => {
  stateDir = mkdtempSync(join(tmpdir(), 'wifi-state-'));
  onCleanup(`state ${stateDir}`, () => rmSync(stateDir, { recursive: true, force: true }));
  return new WifiSubsystem({
    run: exec,
    events,
    log: pino({ level: 'silent' }),
    config: { name: 'den', wifiInterface: '', hotspotSsid: '', hotspotAfterSeconds: 120, stateDir },
    now: () => now,
    observeMs: 3_600_000,
    procNetDir: procNet(routes),
  });
};
/** Calls made so far (the double's log spans the whole file), to look only at what came after. */
const mark = async () => (await nm.calls()).length;
const hotspotOpened = async (since: number) =>
  (await nm.calls()).slice(since).some((c) => c.join(' ').startsWith('connection add type wifi ifname wlan0 con-name station-setup-hotspot'));
// The world, as nmcli reports it: device state, saved profiles, what the radio sees.
const world = (device: string, wifiList = 'wifi-list', extra: NmcliRule[] = []) =>
  nm.scenario([
    ...extra,
    ...hotspotScenario({ device, wifiList }),
    ['^connection (up|down) id ', { stdout: '' }],
    // Joining: a profile is added (recorded answers), then brought up by its uuid.
    ['^connection add type wifi ifname wlan0 con-name Home Net autoconnect yes ssid Home Net 802-11-wireless-security.key-mgmt wpa-psk$', 'wifi-add-wpa-psk'],
    ['^connection add type wifi ifname wlan0 con-name Cafe: Guest autoconnect yes ssid Cafe: Guest$', 'wifi-add-open'],
    ['^connection up uuid ', { stdout: '' }],
    ['^connection delete uuid ', 'connection-delete-uuid'],
    ['^connection delete id Home Net$', { stdout: "Connection 'Home Net' (d08d5d5d-1f59-473b-94f8-8573caf99bc1) successfully deleted.\n" }],
  ]);

/** A Wi-Fi subsystem started at t=0 in `device`'s world with the routing table `routes`, its first look taken. */
async function startedIn(device: string, routes = 'none'): Promise<WifiSubsystem> {
  now = 0;
  await world(device);
  const wifi = make(routes);
  await wifi.start();
  await wifi.settled();
  return wifi;
}
/** The clock moves to `t` and the subsystem looks again. */
async function observeAt(wifi: WifiSubsystem, t: number): Promise<void> {
  now = t;
  await wifi.observe();
}

test.before(async () => {
  nm = await installNmcliDouble();
});
test.after(cleanupAll);

test('NetworkManager not running (recorded message): Wi-Fi is off with the reason, actions answer 503', async () => {
  await nm.scenario([['device status', 'no-daemon']]);
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  assert.is(wifi.health().state, 'off');
  assert.match(wifi.health().reason!, /Could not create NMClient object/);
  await rejectsWith(wifi.networks(false), UnavailableError);
  await wifi.stop();
});

test('no Wi-Fi device (recorded device list): off, saying so', async () => {
  await nm.scenario([['device status', 'device-status']]);
  const wifi = make();
  await wifi.start();
  await wifi.settled();
  assert.equal(wifi.health(), { state: 'off', reason: 'NetworkManager lists no Wi-Fi device: Wi-Fi onboarding is off' });
});

test("nothing up at boot: after the grace period a WPA2 setup hotspot opens, with the station name and this box's passphrase", async () => {
  const wifi = await startedIn('device-status-wifi-disconnected');
  assert.is(wifi.status().mode, 'waiting');
  await observeAt(wifi, 30_000);
  assert.is(wifi.status().mode, 'hotspot');
  assert.ok(wifi.hotspotActive);
  const calls = (await nm.calls()).map((c) => c.join(' '));
  // The exact command recorded against nmcli 1.42.4 (hotspot-add-wpa2): WPA2 only (RSN, CCMP).
  assert.ok(
    calls.includes(
      'connection add type wifi ifname wlan0 con-name station-setup-hotspot autoconnect no ssid den-setup 802-11-wireless.mode ap ipv4.method shared ' +
        'ipv6.method ignore 802-11-wireless-security.key-mgmt wpa-psk 802-11-wireless-security.proto rsn ' +
        '802-11-wireless-security.pairwise ccmp 802-11-wireless-security.group ccmp',
    ),
    calls.join('\n'),
  );
  // Its passphrase: this box's own, kept in the state dir (0600), handed to nmcli in a passwd-file.
  const file = join(stateDir, 'hotspot-passphrase');
  assert.is(statSync(file).mode & 0o777, 0o600);
  const passphrase = readFileSync(file, 'utf8').trim();
  assert.match(passphrase, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  const up = (await nm.passwdFiles()).find((f) => f.args.join(' ').startsWith('connection up id station-setup-hotspot passwd-file '));
  assert.is(up?.content, `802-11-wireless-security.psk:${passphrase}\n`);
  assert.not.ok(
    calls.some((c) => c.includes(passphrase)),
    'the passphrase is on no command line',
  );
  // Shown on the console: the image links <state dir>/setup-wifi.issue into /etc/issue.d (agetty, as root).
  const issue = join(stateDir, 'setup-wifi.issue');
  assert.is(statSync(issue).mode & 0o777, 0o600);
  assert.match(readFileSync(issue, 'utf8'), new RegExp(`"den-setup".*${passphrase}`));
  assert.ok(seen.includes('wifi.mode:"hotspot"'));
  // The token-free join is for requests arriving on the hotspot (NetworkManager's 10.42.0.1/24) only.
  assert.ok(wifi.arrivedOnHotspot('10.42.0.23', '10.42.0.1'));
  assert.ok(wifi.arrivedOnHotspot('::ffff:10.42.0.23', '::ffff:10.42.0.1'));
  assert.not.ok(wifi.arrivedOnHotspot('198.18.60.5', '198.18.60.1'), 'a LAN host on the LAN address');
  assert.not.ok(wifi.arrivedOnHotspot('198.18.60.5', '10.42.0.1'), 'a LAN host routing to the hotspot address');
  assert.not.ok(wifi.arrivedOnHotspot('127.0.0.1', '127.0.0.1'));
  assert.not.ok(wifi.arrivedOnHotspot('10.42.0.23', undefined));

  // The saved network is not in range: the hotspot stays.
  await world('device-status-wifi-hotspot', 'wifi-list-home-gone');
  await observeAt(wifi, 100_000);
  assert.is(wifi.status().mode, 'hotspot');

  // It returns: the hotspot goes down and the saved profile comes up.
  await world('device-status-wifi-hotspot', 'wifi-list');
  await observeAt(wifi, 200_000);
  assert.is(wifi.status().mode, 'connecting');
  const after = (await nm.calls()).map((c) => c.join(' '));
  assert.ok(after.includes('connection down id station-setup-hotspot'));
  assert.ok(after.includes('connection up id Home Net'));
  await world('device-status-wifi-connected');
  await observeAt(wifi, 205_000);
  assert.is(wifi.status().mode, 'client');
  assert.is(wifi.status().connection, 'Home Net');
  assert.not.ok(wifi.arrivedOnHotspot('10.42.0.23', '10.42.0.1'), 'no hotspot, no token-free join');
  await wifi.stop();
});

test('a wired station with an idle radio (recorded: ethernet connected, lo "connected (externally)") never opens the hotspot', async () => {
  const since = await mark();
  const wifi = await startedIn('device-status-wired-wifi-idle');
  for (const t of [30_000, 200_000, 3_600_000]) {
    await observeAt(wifi, t);
    assert.is(wifi.status().mode, 'client');
  }
  assert.is(wifi.status().uplink, 'h11a');
  // Not even the 10 s button press opens it on a wired box: the saved networks go, that is all.
  await wifi.resetNetwork();
  await observeAt(wifi, 3_700_000);
  assert.not.ok(wifi.hotspotActive);
  assert.not.ok(await hotspotOpened(since), 'no hotspot was ever made');
  assert.not.ok(wifi.arrivedOnHotspot('10.42.0.23', '10.42.0.1'));
  await wifi.stop();
});

test('a default route alone is a way out (ethernet not managed by NetworkManager): no hotspot; IPv6 too', async () => {
  for (const routes of ['ipv4-default', 'ipv6-default']) {
    const since = await mark();
    const wifi = await startedIn('device-status-wifi-disconnected', routes);
    await observeAt(wifi, 600_000);
    assert.is(wifi.status().mode, 'client', routes);
    assert.is(wifi.status().uplink, 'h11a');
    assert.not.ok(await hotspotOpened(since), routes);
    await wifi.stop();
  }
});

test('loopback "connected (externally)" is no way out: a radio-only box still opens its (WPA2) hotspot', async () => {
  const wifi = await startedIn('device-status-wifi-idle-lo-external');
  await observeAt(wifi, 30_000);
  assert.is(wifi.status().mode, 'hotspot');
  assert.is(wifi.status().uplink, null);
  await wifi.stop();
});

test('a cable plugged in while the hotspot is open closes the hotspot', async () => {
  const wifi = await startedIn('device-status-wifi-disconnected');
  await observeAt(wifi, 30_000);
  assert.ok(wifi.hotspotActive);
  await world('device-status-wired-wifi-hotspot');
  const since = await mark();
  await observeAt(wifi, 40_000);
  assert.is(wifi.status().mode, 'client');
  assert.not.ok(wifi.hotspotActive);
  assert.equal(
    (await nm.calls())
      .slice(since)
      .map((c) => c.join(' '))
      .filter((c) => c.startsWith('connection ')),
    ['connection down id station-setup-hotspot'],
  );
  assert.not.ok(wifi.arrivedOnHotspot('10.42.0.23', '10.42.0.1'));
  await wifi.stop();
});

test('list, connect, forget: networks strongest first; a bad password is refused before nmcli; a failed join reopens the hotspot', async () => {
  const wifi = await startedIn('device-status-wifi-connected');
  assert.is(wifi.status().mode, 'client');
  assert.equal(
    (await wifi.networks(true)).map((n) => n.ssid),
    ['Home Net', 'Cafe: Guest', 'Neighbours 5G', 'Back\\slash'],
  );
  const before = (await nm.calls()).length;
  await rejectsWith(wifi.connect('Home Net', 'short'), ValidationError);
  assert.is((await nm.calls()).length, before, 'nothing was run for a refused request');

  await wifi.connect('Cafe: Guest');
  const joined = (await nm.calls()).map((c) => c.join(' '));
  assert.ok(joined.includes('connection add type wifi ifname wlan0 con-name Cafe: Guest autoconnect yes ssid Cafe: Guest'), joined.join('\n'));
  assert.ok(joined.includes('connection up uuid f1cf5019-a1dc-4783-9a41-f40c53476944'), 'an open network comes up without a passwd-file');

  // A join that fails (recorded nmcli error) comes back as 409 with nmcli's reason; the hotspot opens again.
  await world('device-status-wifi-disconnected', 'wifi-list', [['^connection up uuid ', 'wifi-up-passwd-file-no-device']]);
  const error = await rejectsWith(wifi.connect('Home Net', 'correct horse battery'), ConflictError);
  assert.match(error.message, /could not join Home Net: Connection activation failed: No suitable device found/);
  assert.is(wifi.status().mode, 'hotspot');

  await world('device-status-wifi-connected');
  await rejectsWith(wifi.forget('Not Saved'), NotFoundError);
  await wifi.forget('Home Net');
  assert.equal((await nm.calls()).at(-2), ['connection', 'delete', 'id', 'Home Net']);
  await wifi.stop();
});

test('a Wi-Fi password reaches nmcli in a 0600 passwd-file, never on its command line; the file is gone after; a failed join does not repeat it', async () => {
  const wifi = await startedIn('device-status-wifi-connected');
  const password = 'correct horse battery';
  await wifi.connect('Home Net', password);
  const onArgv = (await nm.calls()).filter((c) => c.join(' ').includes(password) || c.join(' ').includes('correct'));
  assert.equal(onArgv, [], 'no nmcli command line carries the password');
  const file = (await nm.passwdFiles()).at(-1)!;
  assert.equal(file.args.slice(0, 4), ['connection', 'up', 'uuid', '41203118-37d1-44c5-9134-ae5b2b2555f1']);
  // The recorded encoding nmcli 1.42 reads back as the exact password (see passwd-file.test.ts).
  assert.is(file.content, '802-11-wireless-security.psk:correct\\040horse\\040battery\n');
  assert.is(file.mode, '600');
  assert.not.ok(existsSync(file.args.at(-1)!), 'the passwd-file is removed once nmcli returns');
  // The older profile of that name (the recorded list has Home Net d08d5d5d...) gives way to the new one.
  assert.ok((await nm.calls()).some((c) => c.join(' ') === 'connection delete uuid d08d5d5d-1f59-473b-94f8-8573caf99bc1'));

  // A failing join: the error names nmcli's reason, not the password, and the half-made profile goes.
  await world('device-status-wifi-disconnected', 'wifi-list', [['^connection up uuid ', 'wifi-up-passwd-file-no-device']]);
  const error = await rejectsWith(wifi.connect('Home Net', password), ConflictError);
  assert.not.match(`${error.message}${JSON.stringify(error)}${error.stack}`, password);
  const after = (await nm.calls()).map((c) => c.join(' '));
  const failedUp = after.findLastIndex((c) => c.startsWith('connection up uuid 41203118'));
  assert.is(after[failedUp + 1], 'connection delete uuid 41203118-37d1-44c5-9134-ae5b2b2555f1');
  await wifi.stop();
});

test('a password that is no WPA passphrase (not 8-63 printable ASCII characters) is refused before nmcli runs', async () => {
  const wifi = await startedIn('device-status-wifi-connected');
  const before = (await nm.calls()).length;
  for (const bad of ['short', 'x'.repeat(64), 'tab\tinside-it', 'naïve-password']) {
    const error = await rejectsWith(wifi.connect('Home Net', bad), ValidationError);
    assert.is((error as ValidationError).code, 'INVALID_WIFI_PASSWORD');
  }
  assert.is((await nm.calls()).length, before);
  await wifi.stop();
});

test('a reset (10 s button press) forgets saved networks and opens the hotspot', async () => {
  const wifi = await startedIn('device-status-wifi-connected');
  await wifi.resetNetwork();
  const calls = (await nm.calls()).map((c) => c.join(' '));
  assert.ok(calls.includes('connection delete id Home Net'));
  const forgot = calls.lastIndexOf('connection delete id Home Net');
  assert.ok(
    calls.findLastIndex((c) => c.startsWith('connection up id station-setup-hotspot passwd-file ')) > forgot,
    'the hotspot came up after the networks were forgotten',
  );
  assert.is(wifi.status().mode, 'hotspot');
  await wifi.stop();
});

test.run();
