// The setup page (/setup, the Wi-Fi network picker) belongs to the setup hotspot: the home Wi-Fi
// password typed there must cross the hotspot's WPA2 link, not the LAN in clear (issue 11, finding 7).
// It is served, and phones' captive-portal probes are sent to it, only for requests that arrive on
// the hotspot (local address the hotspot's, caller inside its subnet); from the LAN, loopback or a
// LAN host routing to the hotspot's address, /setup sends the browser to the status page and the
// probes answer as online. The Wi-Fi subsystem is the real one, brought into hotspot mode by the
// nmcli DOUBLE (recorded nmcli output, test/fixtures/nmcli; no radio here) and a recorded routing
// table without a default route; requests are injected with the socket addresses a real one has.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../api/app.ts';
import { WifiSubsystem } from '../../../agent/wifi/wifi-subsystem.ts';
import { exec } from '../../../agent/exec.ts';
import { createTestStation, type TestStation } from '../../helpers/system.ts';
import { hotspotScenario, installNmcliDouble } from '../../doubles/nmcli-double.ts';
import { cleanupAll, onCleanup } from '../../helpers/cleanup.ts';
import { RUN_PREFIX } from '../../helpers/run-prefix.ts';

// NetworkManager's shared-mode address for the hotspot (what the double's device-show-ip4-hotspot says).
const HOTSPOT = '10.42.0.1';
const PHONE = '10.42.0.23';
const LAN_STATION = '198.18.60.1';
const LAN_HOST = '198.18.60.5';

// light-my-request's socket has a remoteAddress only. A real socket also says where the request
// arrived (localAddress): this test's app sets it, first thing, from a header the test sends.
const ARRIVED_AT = 'x-test-arrived-at';

const t = suite<{ station: TestStation; wifi: WifiSubsystem; app: FastifyInstance }>('setup page');

t.before(async (ctx) => {
  const nm = await installNmcliDouble();
  await nm.scenario([...hotspotScenario(), ['^connection (up|down) id ', { stdout: '' }]]);
  ctx.station = await createTestStation();
  // The station's own Wi-Fi subsystem reads this machine's routing table, whose default route (rightly)
  // keeps a hotspot closed; this one reads a recorded table without one, on a clock the test moves.
  let now = 0;
  const stateDir = mkdtempSync(join(tmpdir(), `${RUN_PREFIX}-setup-page-`));
  onCleanup(`state ${stateDir}`, () => rmSync(stateDir, { recursive: true, force: true }));
  ctx.wifi = new WifiSubsystem({
    run: exec,
    events: ctx.station.system.events,
    log: pino({ level: 'silent' }),
    now: () => now,
    observeMs: 3_600_000,
    config: { name: 'test', wifiInterface: '', hotspotSsid: '', hotspotAfterSeconds: 10, stateDir },
    procNetDir: fileURLToPath(new URL('../../fixtures/default-route/none/', import.meta.url)),
  });
  await ctx.wifi.start();
  await ctx.wifi.settled();
  now = 30_000;
  await ctx.wifi.observe();
  Object.defineProperty(ctx.station.system, 'wifi', { value: ctx.wifi });
  ctx.app = await buildApp({ system: ctx.station.system });
  ctx.app.addHook('onRequest', async (request) => {
    (request.raw.socket as { localAddress?: string }).localAddress = String(request.headers[ARRIVED_AT]);
    delete request.headers[ARRIVED_AT];
  });
  await ctx.app.ready();
});
t.after(async (ctx) => {
  await ctx.app?.close();
  await ctx.wifi?.stop();
  await ctx.station?.close();
  await cleanupAll();
});

/** A GET from `remoteAddress` that arrived at the station's address `local`. */
const get = (app: FastifyInstance, url: string, remoteAddress: string, local: string) =>
  app.inject({ url, remoteAddress, headers: { host: 'test.local', [ARRIVED_AT]: local } });

t('the hotspot is open (guards the checks below)', ({ wifi }) => {
  assert.is(wifi.status().mode, 'hotspot');
  assert.ok(wifi.hotspotActive);
});

t('over the hotspot, /setup is the network picker and the captive-portal probes lead to it', async ({ app }) => {
  const page = await get(app, '/setup', PHONE, HOTSPOT);
  assert.is(page.statusCode, 200, page.body.slice(0, 200));
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /<script src="\/setup\.js"/);
  for (const probe of ['/generate_204', '/hotspot-detect.html', '/connecttest.txt']) {
    const r = await get(app, probe, PHONE, HOTSPOT);
    assert.is(r.statusCode, 302, probe);
    assert.is(r.headers.location, `http://${HOTSPOT}/setup`, probe);
  }
  // (a probe under its own name as Host, over the hotspot: test/e2e/setup.test.ts, with real addresses)
  const wifi = await get(app, '/api/v1/wifi', PHONE, HOTSPOT);
  assert.is(wifi.json().viaHotspot, true);
});

t('from the LAN, loopback, or a LAN host routing to the hotspot address: /setup sends the browser to /, the probes answer as online', async ({ app }) => {
  const elsewhere: [string, string, string][] = [
    [LAN_HOST, LAN_STATION, 'a LAN host on the LAN address'],
    ['127.0.0.1', '127.0.0.1', 'loopback'],
    [LAN_HOST, HOTSPOT, 'a LAN host routing to the hotspot address'],
    [PHONE, LAN_STATION, 'the hotspot subnet reaching the LAN address'],
  ];
  for (const [remote, local, who] of elsewhere) {
    const page = await get(app, '/setup', remote, local);
    assert.is(page.statusCode, 302, who);
    assert.is(page.headers.location, '/', who);
    assert.not.match(page.body, /setup\.js/, who);
    const android = await get(app, '/generate_204', remote, local);
    assert.is(android.statusCode, 204, who);
    const apple = await get(app, '/hotspot-detect.html', remote, local);
    assert.is(apple.statusCode, 200, who);
    assert.is(apple.body, 'success', who);
    assert.is((await get(app, '/api/v1/wifi', remote, local)).json().viaHotspot, false, who);
  }
});

t('the status page itself stays open to the LAN', async ({ app }) => {
  const page = await get(app, '/', LAN_HOST, LAN_STATION);
  assert.is(page.statusCode, 200);
  assert.match(page.body, /<script src="\/app\.js"/);
});

t.run();
