// The setup hotspot's token-free join, against the real agent process in a test namespace. The radio
// is the nmcli DOUBLE (recorded nmcli output; no radio exists here), and the addresses are real: a
// veth end holds the hotspot's 10.42.0.1/24 (what the double reports for wlan0, NetworkManager's
// shared-mode address) and the other end a LAN address. Only a request that arrives on the hotspot address
// may pick a network without the token; one to the LAN address or to loopback gets 401. The agent
// reads the namespace's real routing table: no default route, so the hotspot opens.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { insideTestNetns } from '../e2e/in-netns.ts';
import { startSetupAgent } from '../e2e/setup-agent.ts';
import type { AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { localVethPair } from '../helpers/netns.ts';
import { hotspotScenario, installNmcliDouble } from '../doubles/nmcli-double.ts';

if (await insideTestNetns(fileURLToPath(import.meta.url), 'wifi')) {
  let agent: AgentHandle;
  let port = 0;
  let stopEvents: AbortController;
  const HOTSPOT = '10.42.0.1';
  const LAN = '198.18.61.1';
  const join = (address: string, token?: string) =>
    fetch(`http://${address}:${port}/api/v1/wifi/connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ ssid: 'Home Net', password: 'correct horse battery' }),
    });

  test.before(async () => {
    // A veth pair inside the namespace stands for the two sides (this kernel has no dummy devices).
    await localVethPair({ suffix: 'hs', cidr: `${HOTSPOT}/24` }, { suffix: 'lan', cidr: `${LAN}/24` });
    const nm = await installNmcliDouble();
    await nm.scenario([
      ...hotspotScenario(),
      ['^connection (up|down) id station-setup-hotspot', { stdout: '' }],
      ['^connection add type wifi ifname wlan0 con-name Home Net ', 'wifi-add-wpa-psk'],
      ['^connection up uuid ', { stdout: '' }],
      ['^connection delete uuid ', 'connection-delete-uuid'],
    ]);
    ({ agent, port } = await startSetupAgent('nodes,network,mesh,fleet,discovery,indicator'));
    // Nothing is up and there is no default route here: the hotspot opens after its grace period. The
    // wifi.mode event is published once NetworkManager has brought it up (the double's answers).
    stopEvents = new AbortController();
    const stream = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
      signal: AbortSignal.any([stopEvents.signal, AbortSignal.timeout(90_000)]),
      headers: { authorization: `Bearer ${agent.token}` },
    });
    const decoder = new TextDecoder();
    let seen = '';
    const opened = /"type":"wifi\.mode","at":"[^"]*","data":\{"mode":"hotspot"/;
    try {
      for await (const chunk of stream.body!) {
        seen += decoder.decode(chunk as Uint8Array);
        if (opened.test(seen)) break;
      }
    } catch {
      /* the 90 s ran out: said below */
    }
    stopEvents.abort();
    if (!opened.test(seen)) throw new Error(`the setup hotspot did not open within 90 s; events: ${seen}\nagent: ${agent.logs()}`);
  });
  test.after(cleanupAll);

  test('without the token, /wifi/connect to the LAN address or to loopback is refused (401)', async () => {
    for (const address of ['127.0.0.1', LAN]) {
      const r = await join(address);
      assert.is(r.status, 401, address);
    }
    assert.is(((await (await fetch(`http://127.0.0.1:${port}/api/v1/wifi`)).json()) as { mode: string }).mode, 'hotspot', 'nothing changed');
  });

  test('the setup page can tell where it was opened: GET /wifi says viaHotspot only over the hotspot', async () => {
    const via = async (address: string) => ((await (await fetch(`http://${address}:${port}/api/v1/wifi`)).json()) as { viaHotspot?: boolean }).viaHotspot;
    assert.equal([await via(HOTSPOT), await via(LAN), await via('127.0.0.1')], [true, false, false]);
  });

  test('over the hotspot (its address, from inside its subnet) a network is picked without the token', async () => {
    const r = await join(HOTSPOT);
    assert.is(r.status, 200, await r.clone().text());
    assert.is(((await r.json()) as { mode: string }).mode, 'connecting');
  });

  test('the passphrase: the admin may read it; without the token it is 401', async () => {
    assert.is((await fetch(`http://127.0.0.1:${port}/api/v1/wifi/hotspot`)).status, 401);
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/wifi/hotspot`, { headers: { authorization: `Bearer ${agent.token}` } });
    const body = (await r.json()) as { ssid: string; passphrase: string; security: string };
    assert.equal([body.ssid, body.security], ['den-setup', 'WPA2-PSK']);
    assert.match(body.passphrase, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  });

  test.run();
}
