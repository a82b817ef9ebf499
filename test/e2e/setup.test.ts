// Wi-Fi onboarding end to end, with the nmcli DOUBLE standing in for the radio (recorded nmcli
// output, see test/fixtures/nmcli): the agent boots with no network, opens the setup hotspot, answers
// phones' captive-portal probes with the setup page; on a phone-sized Chromium the page lists the
// networks and joining one issues the nmcli command, without any token (the person is at the box).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { insideTestNetns } from './in-netns.ts';
import { launchChromium } from './browser.ts';
import { tempStateDir } from './state-dir.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { installNmcliDouble, type NmcliDouble } from '../doubles/nmcli-double.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

if (await insideTestNetns(fileURLToPath(import.meta.url), 'setup')) {
  let agent: AgentHandle;
  let browser: Browser;
  let nm: NmcliDouble;

  const radio = (device: string, extra: [string, string | object][] = []) => nm.scenario([
    ...extra as [string, string][],
    ['^-t -f DEVICE,TYPE,STATE,CONNECTION device status$', device],
    ['^-t -f NAME,UUID,TYPE,DEVICE,AUTOCONNECT,TIMESTAMP connection show$', 'connection-show'],
    ['^-t -f IN-USE,SSID,BSSID,MODE,CHAN,FREQ,SIGNAL,SECURITY device wifi list ifname wlan0 --rescan (yes|no)$', 'wifi-list-home-gone'],
    ['^connection delete id station-setup-hotspot$', 'connection-delete'],
    ['^connection add type wifi ifname wlan0 con-name station-setup-hotspot ', 'hotspot-add'],
    ['^connection (up|down) id ', { stdout: '' }],
    ['^device wifi connect ', { stdout: '' }],
  ]);

  test.before(async () => {
    nm = await installNmcliDouble(); // on PATH for the agent this test starts
    await radio('device-status-wifi-disconnected');
    agent = await startAgent({ stateDir: await tempStateDir(), env: { STATION_NAME: 'den', STATION_DISABLE: 'nodes,network,mesh,fleet', STATION_HOTSPOT_AFTER_SECONDS: '10' } });
    browser = await launchChromium();
  });
  test.after(cleanupAll);

  test('no network at boot: the setup hotspot opens, and phones probing for a captive portal are sent to /setup', async () => {
    let mode = '';
    for (let i = 0; i < 300 && mode !== 'hotspot'; i++) {
      mode = ((await (await agent.api('/api/v1/wifi')).json()) as { mode: string }).mode;
      if (mode !== 'hotspot') await new Promise((r) => setTimeout(r, 100));
    }
    assert.is(mode, 'hotspot');
    // The mode changes first; the nmcli commands that make the hotspot follow.
    let calls: string[] = [];
    for (let i = 0; i < 100 && !calls.includes('connection up id station-setup-hotspot'); i++) {
      calls = (await nm.calls()).map((c) => c.join(' '));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(calls.includes('connection add type wifi ifname wlan0 con-name station-setup-hotspot autoconnect no ssid den-setup 802-11-wireless.mode ap ipv4.method shared ipv6.method ignore'), calls.join('\n'));
    assert.ok(calls.includes('connection up id station-setup-hotspot'));
    const probe = await agent.api('/generate_204', { redirect: 'manual' });
    assert.is(probe.status, 302);
    assert.match(probe.headers.get('location')!, /\/setup$/);
    const apple = await agent.api('/hotspot-detect.html', { redirect: 'manual' });
    assert.is(apple.status, 302);
  });

  test('the captive page lists the networks and joins the one picked, without a token', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.goto(`${agent.baseUrl}/generate_204`);
    assert.match(phone.url(), /\/setup$/);
    await phone.waitForSelector('#networks li b');
    const names = await phone.$$eval('#networks li b', (els) => els.map((e) => e.textContent));
    assert.equal(names, ['Cafe: Guest', 'Neighbours 5G']);
    assert.match((await phone.textContent('#networks li:nth-child(2) small'))!, /secured \(WPA1 WPA2\)/);
    await phone.screenshot({ path: `${SHOTS}setup-phone.png` });
    await radio('device-status-wifi-hotspot');
    await phone.click('#networks li:nth-child(2)');
    await phone.fill('#pw', 'neighbourly-secret');
    await phone.click('#join-form [type=submit]');
    await phone.waitForSelector('#result:not(:empty)');
    assert.match((await phone.textContent('#result'))!, /Connected to Neighbours 5G/);
    const calls = await nm.calls();
    assert.ok(calls.some((c) => c.join(' ') === 'device wifi connect Neighbours 5G ifname wlan0 password neighbourly-secret'), JSON.stringify(calls.slice(-5)));
    assert.ok(calls.some((c) => c.join(' ') === 'connection down id station-setup-hotspot'));
    // Out of hotspot mode the same request is an ordinary admin change again.
    const anonymous = await agent.api('/api/v1/wifi/connect', { method: 'POST', json: { ssid: 'Cafe: Guest' } });
    assert.is(anonymous.status, 401);
    await phone.close();
  });

  test.run();
}
