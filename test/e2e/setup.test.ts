// Wi-Fi onboarding end to end, with the nmcli DOUBLE standing in for the radio (recorded nmcli
// output, see test/fixtures/nmcli): the agent boots with no network and opens the WPA2 setup hotspot;
// a phone-sized Chromium that reaches the station over the hotspot is sent to /setup by the
// captive-portal probe, lists the networks and joins one without a token, its password reaching
// nmcli in a passwd-file. From the LAN the same station offers no setup page and no token-free join.
// The addresses are real, inside the test namespace: one veth end holds the hotspot's address (what
// NetworkManager reports for wlan0), the other a LAN address; the browser and the agent share the
// namespace, so a request to an address arrives on it (the socket's local address) from it.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { request as httpRequest } from 'node:http';
import type { Browser } from 'playwright-core';
import { insideTestNetns } from './in-netns.ts';
import { launchChromium, watchErrors } from './browser.ts';
import { startSetupAgent } from './setup-agent.ts';
import type { AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { localVethPair } from '../helpers/netns.ts';
import { installNmcliDouble, type NmcliDouble } from '../doubles/nmcli-double.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

if (await insideTestNetns(fileURLToPath(import.meta.url), 'setup')) {
  let agent: AgentHandle;
  let browser: Browser;
  let nm: NmcliDouble;
  let port = 0;
  // The hotspot's address is the one in the recorded `-t -f IP4.ADDRESS device show` answer
  // (device-show-ip4: IP4.ADDRESS[1]:198.18.201.1/24). A shared connection takes its subnet from one
  // manual ipv4.addresses entry (nm-settings-nmcli(5), NetworkManager 1.42: 'For IPv4 method "shared",
  // the IP subnet can be configured by adding one manual IPv4 address'), so that answer stands for a
  // hotspot given 198.18.201.1/24, an address of the test ranges, instead of the default 10.42.0.1.
  const HOTSPOT = '198.18.201.1';
  const LAN = '198.18.202.1';
  const at = (address: string) => `http://${address}:${port}`;
  const PASSWORD = 'neighbourly-secret';

  const radio = (device: string | { stdout: string }) =>
    nm.scenario([
      ['^-t -f DEVICE,TYPE,STATE,CONNECTION device status$', device],
      ['^-t -f NAME,UUID,TYPE,DEVICE,AUTOCONNECT,TIMESTAMP connection show$', 'connection-show'],
      ['^-t -f IN-USE,SSID,BSSID,MODE,CHAN,FREQ,SIGNAL,SECURITY device wifi list ifname wlan0 --rescan (yes|no)$', 'wifi-list-home-gone'],
      ['^connection delete id station-setup-hotspot$', 'connection-delete'],
      ['^connection add type wifi ifname wlan0 con-name station-setup-hotspot ', 'hotspot-add-wpa2'],
      ['^-t -f IP4.ADDRESS device show wlan0$', 'device-show-ip4'],
      ['^connection (up|down) id station-setup-hotspot', { stdout: '' }],
      // Joining: the profile is added without its password (recorded wifi-add-wpa-psk says this, for
      // the name it was recorded with), then brought up by uuid with the password in a passwd-file.
      [
        '^connection add type wifi ifname wlan0 con-name Neighbours 5G autoconnect yes ssid Neighbours 5G 802-11-wireless-security.key-mgmt wpa-psk$',
        { stdout: "Connection 'Neighbours 5G' (41203118-37d1-44c5-9134-ae5b2b2555f1) successfully added.\n" },
      ],
      ['^connection up uuid 41203118-37d1-44c5-9134-ae5b2b2555f1 passwd-file ', { stdout: '' }],
      ['^connection delete uuid ', 'connection-delete-uuid'],
    ]);
  const calls = async () => (await nm.calls()).map((c) => c.join(' '));
  const joinCalls = async () => (await calls()).filter((c) => c.startsWith('connection add type wifi ifname wlan0 con-name Neighbours 5G'));
  const join = (address: string) =>
    fetch(`${at(address)}/api/v1/wifi/connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ssid: 'Neighbours 5G', password: PASSWORD }),
    });
  const wifiMode = async () => ((await (await agent.api('/api/v1/wifi')).json()) as { mode: string }).mode;

  test.before(async () => {
    // A veth pair inside the test namespace: one end is the hotspot, the other the LAN.
    await localVethPair({ suffix: 'hs', cidr: `${HOTSPOT}/24` }, { suffix: 'lan', cidr: `${LAN}/24` });
    nm = await installNmcliDouble(); // on PATH for the agent this test starts
    await radio('device-status-wifi-disconnected');
    ({ agent, port } = await startSetupAgent('nodes,network,mesh,fleet'));
    browser = await launchChromium();
  });
  test.after(cleanupAll);

  /** A GET with a Host header of our choosing (fetch does not let a caller set Host). */
  const requestWithHost = (url: string, host: string) =>
    new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = httpRequest(url, { headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });

  test('no network at boot (no default route in this namespace): the WPA2 setup hotspot opens and serves', async () => {
    // Wait on the agent's own signals: each event (wifi.mode once NetworkManager, the double, has
    // brought the hotspot up and said its address) or heartbeat on /events is a cue to ask, over the
    // hotspot address, whether this request arrived on the hotspot.
    const viaHotspot = async () => ((await (await fetch(`${at(HOTSPOT)}/api/v1/wifi`)).json()) as { viaHotspot: boolean }).viaHotspot;
    const stream = await fetch(`${agent.baseUrl}/api/v1/events`, { signal: AbortSignal.timeout(90_000) });
    let serving = false;
    try {
      for await (const _chunk of stream.body!) if ((serving = await viaHotspot())) break;
    } catch {
      /* the 90 s ran out: said below */
    }
    await stream.body?.cancel().catch(() => undefined);
    assert.ok(serving, `the setup hotspot did not open within 90 s; agent: ${agent.logs()}`);
    assert.is(await wifiMode(), 'hotspot');
    const made = await calls();
    assert.ok(
      made.includes(
        'connection add type wifi ifname wlan0 con-name station-setup-hotspot autoconnect no ssid den-setup 802-11-wireless.mode ap ipv4.method shared ' +
          'ipv6.method ignore 802-11-wireless-security.key-mgmt wpa-psk 802-11-wireless-security.proto rsn ' +
          '802-11-wireless-security.pairwise ccmp 802-11-wireless-security.group ccmp',
      ),
      made.join('\n'),
    );
    assert.ok(made.some((c) => c.startsWith('connection up id station-setup-hotspot passwd-file ')));
    // From now on NetworkManager lists wlan0 as serving the hotspot.
    await radio('device-status-wifi-hotspot');
  });

  test('from the LAN address: /setup leads to the status page, probes answer as online, no join without the token', async () => {
    const laptop = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = watchErrors(laptop);
    await laptop.goto(`${at(LAN)}/setup`);
    assert.is(laptop.url(), `${at(LAN)}/`, 'sent to the status page');
    await laptop.waitForSelector('body[data-loaded="true"]');
    assert.is(await laptop.$('#networks'), null, 'no network picker');
    // The status page says the hotspot is open and how to get to the picker; it links to none.
    await laptop.waitForSelector('#alerts .alert.info');
    assert.match((await laptop.textContent('#alerts .alert.info'))!, /join “den-setup” from a phone/);
    assert.is(await laptop.$('#alerts a[href="/setup"]'), null);
    // Nothing refused (no read that needs a token, no tokenless change) and no script error. Subsystems
    // turned off here answer 5xx, which the page shows as such (the full page test checks for none).
    assert.equal(
      errors.filter((e) => !/status of 5\d\d/.test(e)),
      [],
    );
    await laptop.close();

    const probe = await fetch(`${at(LAN)}/generate_204`, { redirect: 'manual' });
    assert.is(probe.status, 204, 'a phone on the LAN is not told it is captive');
    const wifi = (await (await fetch(`${at(LAN)}/api/v1/wifi`)).json()) as { viaHotspot: boolean; mode: string };
    assert.equal([wifi.viaHotspot, wifi.mode], [false, 'hotspot']);
    const r = await join(LAN);
    assert.is(r.status, 401, await r.clone().text());
    assert.equal(await joinCalls(), [], 'nmcli was not asked to join');
    assert.is(await wifiMode(), 'hotspot', 'nothing changed');
  });

  test('over the hotspot: the captive probe leads to /setup, which lists the networks and joins the one picked without a token', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const errors = watchErrors(phone);
    await phone.goto(`${at(HOTSPOT)}/generate_204`);
    assert.is(phone.url(), `${at(HOTSPOT)}/setup`);
    // A phone asks its probe under the probe's own name (its DNS may point every name at the
    // station): over the hotspot that Host is answered, and the redirect names the hotspot address.
    for (const [path, host] of [
      ['/generate_204', 'connectivitycheck.gstatic.com'],
      ['/hotspot-detect.html', 'captive.apple.com'],
    ]) {
      const probe = await requestWithHost(`${at(HOTSPOT)}${path}`, host!);
      assert.equal([probe.status, probe.location], [302, `${at(HOTSPOT)}/setup`], `${host}${path}`);
    }
    const fromLan = await requestWithHost(`${at(LAN)}/generate_204`, 'connectivitycheck.gstatic.com');
    assert.is(fromLan.status, 421, 'the same foreign Host from the LAN is a rebinding sign');
    await phone.waitForSelector('#networks li b');
    assert.is(await phone.isVisible('#elsewhere'), false);
    const names = await phone.$$eval('#networks li b', (els) => els.map((e) => e.textContent));
    assert.equal(names, ['Cafe: Guest', 'Neighbours 5G']);
    assert.match((await phone.textContent('#networks li:nth-child(2) small'))!, /secured \(WPA1 WPA2\)/);
    await phone.screenshot({ path: `${SHOTS}setup-phone.png` });
    await phone.click('#networks li:nth-child(2)');
    await phone.fill('#pw', PASSWORD);
    await phone.click('#join-form [type=submit]');
    await phone.waitForSelector('#result:not(:empty)');
    assert.match((await phone.textContent('#result'))!, /Connected to Neighbours 5G/);
    const made = await calls();
    assert.equal(await joinCalls(), [
      'connection add type wifi ifname wlan0 con-name Neighbours 5G autoconnect yes ssid Neighbours 5G 802-11-wireless-security.key-mgmt wpa-psk',
    ]);
    assert.ok(made.includes('connection down id station-setup-hotspot'), 'the hotspot closes');
    // The password went to nmcli in a passwd-file (0600), never on a command line.
    const up = (await nm.passwdFiles()).find((f) => f.args.join(' ').startsWith('connection up uuid 41203118-37d1-44c5-9134-ae5b2b2555f1 passwd-file '));
    assert.equal([up?.content, up?.mode], [`802-11-wireless-security.psk:${PASSWORD}\n`, '600']);
    assert.not.ok(
      made.some((c) => c.includes(PASSWORD)),
      'the password is on no command line',
    );

    // The radio now reports the network joined (the constructed device-status format, with this SSID).
    await radio({ stdout: 'wlan0:wifi:connected:Neighbours 5G\nstpgcapa:ethernet:unmanaged:\nlo:loopback:unmanaged:\n' });
    // The hotspot is closed: a join without the token is refused there too, and the page, asked to
    // scan again, says so instead of offering the picker.
    assert.is((await join(HOTSPOT)).status, 401);
    await phone.click('#rescan');
    await phone.waitForSelector('#elsewhere:not([hidden])');
    assert.is(await phone.isVisible('#picker'), false);
    assert.match((await phone.textContent('#elsewhere-how'))!, /setup hotspot is closed/);
    assert.equal(errors, []);
    await phone.close();
  });

  test.run();
}
