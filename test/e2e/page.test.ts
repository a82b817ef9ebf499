// The status page in headless Chromium against a real agent with real (LXC busybox) nodes, all
// inside a test network namespace: the page renders the station, hardware reasons and alerts; a
// node created through the API appears without a reload (server-sent events); a signed-in person
// stops, starts and destroys a node from the page; an anonymous browser is refused until a pairing
// window opens, then the one guest who taps Pair gets a session and a second guest is refused (one
// session per window); the console stays free of errors (an anonymous page never asks for what
// needs the token); screenshots at desktop and phone width go to docs/screenshots/.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { insideTestNetns } from './in-netns.ts';
import { watchErrors } from './browser.ts';
import { markPage, notReloaded, openLive, startPageSession } from './page-session.ts';
import type { AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { runName } from '../helpers/run-prefix.ts';

// Functions passed to page.evaluate run in the browser (the page's CSP forbids evaluating strings).
declare const window: { innerWidth: number };
declare const document: {
  documentElement: { scrollWidth: number };
  getElementById(id: string): { value: string; textContent: string | null } | null;
};
declare const localStorage: { getItem(key: string): string | null };

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

if (await insideTestNetns(fileURLToPath(import.meta.url), 'e2e')) {
  let agent: AgentHandle;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  const web = runName('web');
  const cache = runName('cache');
  const nodesAvailable = { yes: false };

  /** a fresh browser (its own storage: no token) on the page, phone-sized */
  const guestBrowser = async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const guest = await context.newPage();
    const errors = watchErrors(guest);
    await guest.goto(agent.baseUrl);
    await guest.waitForSelector('body[data-loaded="true"]');
    return { context, guest, errors };
  };
  const nodeState = async (name: string) => ((await (await agent.api(`/api/v1/nodes/${name}`)).json()) as { state: string }).state;

  test.before(async () => {
    const session = await startPageSession('198.18.93.0/24', { width: 1280, height: 800 });
    ({ agent, browser, page, pageErrors } = session);
    nodesAvailable.yes = session.nodesAvailable;
    await mkdir(SHOTS, { recursive: true });
  });
  test.after(async () => {
    await cleanupAll();
  });

  test('the page shows the station, its health, hardware reasons and alerts, and goes live', async () => {
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const response = await page.goto(agent.baseUrl);
    assert.is(response?.status(), 200);
    await page.waitForSelector('body[data-loaded="true"]');
    assert.is(await page.textContent('#name'), 'den');
    assert.match((await page.getAttribute('#health', 'data-state')) ?? '', /^(ok|degraded)$/);
    await page.waitForSelector('#live.on');
    await page.waitForSelector('#caps li[data-capability="gpio"]', { timeout: 20_000 });
    // An unavailable capability is listed with its reason, and counted in the alerts.
    const gpio = await page.textContent('#caps li[data-capability="gpio"]');
    assert.match(gpio ?? '', /gpio/i);
    assert.is(await page.getAttribute('#caps li[data-capability="gpio"]', 'data-available'), 'false');
    assert.match((await page.textContent('#alerts')) ?? '', /unavailable/);
    // Subsystems that are off say why (no GPIO lines on this machine).
    assert.match((await page.textContent('#subsystems li[data-subsystem="indicator"]')) ?? '', /GPIO/);
    // Works offline: every request the page made went to the station itself.
    assert.ok(requested.length >= 4);
    assert.equal(
      requested.filter((u) => !u.startsWith(`${agent.baseUrl}/`)),
      [],
    );
    // Signed out: no admin controls, no pairing banner, and nothing refused or thrown.
    assert.is(await page.isVisible('#new-node'), false);
    assert.is(await page.isVisible('#pairing-banner'), false);
    assert.equal(pageErrors, []);
  });

  test('a node created through the API appears on the open page without a reload', async () => {
    if (!nodesAvailable.yes) {
      console.log('node API not available in this tree: skipping the live node check');
      return;
    }
    await markPage(page);
    const created = await agent.api('/api/v1/nodes', {
      method: 'POST',
      auth: true,
      json: {
        name: web,
        template: 'busybox',
        resources: { memoryMB: 64 },
        volumes: [{ name: 'www', path: '/www' }],
        modules: [{ name: 'web', run: 'mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www' }],
      },
    });
    assert.is(created.status, 201, await created.clone().text());
    // the Disk panel follows too: the node with its volume (plain directories here: no copies kept)
    await page.waitForSelector(`#disk li[data-node="${web}"]`, { timeout: 30_000 });
    assert.match((await page.textContent(`#disk li[data-node="${web}"]`)) ?? '', /www: /);
    await page.waitForSelector(`.node[data-node="${web}"]`, { timeout: 30_000 });
    await page.waitForSelector(`.node[data-node="${web}"][data-state="running"]`, { timeout: 60_000 });
    await notReloaded(page);
    assert.match((await page.textContent(`.node[data-node="${web}"] .node-meta`)) ?? '', /198\.18\.93\.\d+/);
    assert.match((await page.textContent('#events')) ?? '', /node\.created/);
  });

  test('anonymous changes are refused (401); signed in with the token, the page stops and starts a node', async () => {
    const anonymous = await agent.api('/api/v1/pairing/open', { method: 'POST', json: {} });
    assert.is(anonymous.status, 401);
    await page.click('#auth-btn');
    await page.fill('#token-input', 'st_wrong-token-wrong-token-wrong-token');
    await page.click('#token-save');
    await page.waitForSelector('#auth-error:not(:empty)');
    assert.match((await page.textContent('#auth-error')) ?? '', /not valid/);
    await page.fill('#token-input', agent.token);
    await page.click('#token-save');
    await page.waitForSelector('body.authed');
    assert.is(await page.isVisible('#new-node'), true);
    // The one error in the console: the wrong token, refused.
    assert.equal(
      pageErrors.map((e) => e.replace(/ \(http.*\)$/, '').replace(/^.*status of /, '')),
      ['401 (Unauthorized)'],
    );
    assert.match(pageErrors[0]!, /\/api\/v1\/session\/check\)$/);
    pageErrors.length = 0;
    if (!nodesAvailable.yes) return;
    await page.click(`.node[data-node="${web}"] [data-action="stop"]`);
    await page.waitForSelector(`.node[data-node="${web}"][data-state="stopped"]`, { timeout: 60_000 });
    assert.is(await nodeState(web), 'stopped');
    await page.click(`.node[data-node="${web}"] [data-action="start"]`);
    await page.waitForSelector(`.node[data-node="${web}"][data-state="running"]`, { timeout: 60_000 });
    assert.is(await nodeState(web), 'running');
  });

  test('signed in, the page makes a mesh invite', async () => {
    const mesh = await agent.api('/api/v1/mesh', { method: 'POST', auth: true, json: { owner: 'alice' } });
    if (mesh.status !== 200 && mesh.status !== 201) {
      console.log(`mesh not available here (${mesh.status} ${await mesh.text()}): skipping the invite`);
      return;
    }
    await page.waitForSelector('#invite-btn:not([hidden])', { timeout: 30_000 });
    assert.match((await page.textContent('#mesh')) ?? '', /alice/);
    await page.click('#invite-btn');
    await page.waitForFunction(() => document.getElementById('invite-code')!.value.length > 20 || !!document.getElementById('invite-error')!.textContent);
    const code = await page.inputValue('#invite-code');
    assert.ok(code.length > 20, `no invite code (error: ${await page.textContent('#invite-error')})`);
    await page.click('#invite-dialog [data-close]');
  });

  test('a second node from the page form; screenshots at desktop and phone width', async () => {
    if (nodesAvailable.yes) {
      await page.click('#new-node');
      await page.fill('#node-form [name=name]', cache);
      await page.fill('#node-form [name=memoryMB]', '32');
      await page.click('#node-form [type=submit]');
      await page.waitForSelector(`.node[data-node="${cache}"][data-state="running"]`, { timeout: 60_000 });
    }
    // Starting the mesh moved the nodes to the mesh's node subnet (a rebuild, with progress lines and
    // no node.created at its end): no card keeps showing a finished build's last line.
    await page.waitForSelector('.node-progress', { state: 'detached', timeout: 20_000 });
    await page.waitForSelector('#toast', { state: 'hidden', timeout: 10_000 });
    await page.waitForTimeout(600); // the appear animation
    await page.screenshot({ path: `${SHOTS}page-desktop.png`, fullPage: false });
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const phoneErrors = watchErrors(phone);
    await openLive(phone, agent.baseUrl);
    await phone.waitForTimeout(600);
    // No horizontal scrolling on a phone.
    assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'the page is wider than the phone');
    await phone.screenshot({ path: `${SHOTS}page-phone.png` });
    await phone.screenshot({ path: `${SHOTS}page-phone-full.png`, fullPage: true });
    assert.equal(phoneErrors, []);
    await phone.close();
    assert.equal(pageErrors, [], 'the signed-in page: no errors');
  });

  test('pairing: refused while closed; in an open window the guest who taps Pair gets a working session, a second guest is refused', async () => {
    const { context, guest, errors } = await guestBrowser();
    await guest.click('#auth-btn');
    await guest.click('#pair-btn');
    await guest.waitForSelector('#auth-error:not(:empty)');
    assert.match((await guest.textContent('#auth-error')) ?? '', /No pairing window is open/);
    // What a short press of the link button does; here an admin opens it through the API.
    const opened = await agent.api('/api/v1/pairing/open', { method: 'POST', auth: true, json: {} });
    assert.is(opened.status, 200);
    // The signed-in admin's page shows the open window; an anonymous page is not told (whoever
    // hears of it first could take the session): the person at the box taps Pair.
    await page.waitForSelector('#pairing-banner:not([hidden])');
    assert.is(await guest.isVisible('#pairing-banner'), false);
    await guest.click('#pair-btn');
    await guest.waitForSelector('body.authed');
    assert.is(await guest.isVisible('#new-node'), true);
    // Taking the session closed the window: the admin's banner goes, one session is live.
    await page.waitForSelector('#pairing-banner', { state: 'hidden' });
    const after = (await (await agent.api('/api/v1/pairing', { auth: true })).json()) as { open: boolean; activeSessions: number };
    assert.equal([after.open, after.activeSessions], [false, 1]);

    // A second browser in the same window: refused, and not signed in.
    const second = await guestBrowser();
    await second.guest.click('#auth-btn');
    await second.guest.click('#pair-btn');
    await second.guest.waitForSelector('#auth-error:not(:empty)');
    assert.match((await second.guest.textContent('#auth-error')) ?? '', /No pairing window is open \(each press of the link button pairs one browser\)/);
    assert.is(await second.guest.$('body.authed'), null);
    assert.is(await second.guest.isVisible('#new-node'), false);
    // In each guest's console, only the refused session request (403); nothing asked for anonymously.
    assert.equal(
      second.errors.map((e) => /status of (\d+).*\/api\/v1\/pairing\/session\)$/.exec(e)?.[1] ?? e),
      ['403'],
    );
    await second.context.close();

    // The first guest's session is a working one.
    if (nodesAvailable.yes) {
      await guest.click(`.node[data-node="${cache}"] [data-action="stop"]`);
      await guest.waitForSelector(`.node[data-node="${cache}"][data-state="stopped"]`, { timeout: 60_000 });
      guest.once('dialog', (d) => void d.accept());
      await guest.click(`.node[data-node="${cache}"] [data-action="destroy"]`);
      await guest.waitForSelector(`.node[data-node="${cache}"]`, { state: 'detached', timeout: 60_000 });
      assert.is((await agent.api(`/api/v1/nodes/${cache}`)).status, 404);
    } else {
      const check = await guest.evaluate(
        async () =>
          (
            await fetch('/api/v1/session/check', {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${localStorage.getItem('station.token')}` },
              body: '{}',
            })
          ).status,
      );
      assert.is(check, 200);
    }
    assert.equal(
      errors.map((e) => /status of (\d+).*\/api\/v1\/pairing\/session\)$/.exec(e)?.[1] ?? e),
      ['403'],
    );
    await context.close();
    assert.equal(pageErrors, [], 'the admin page: no errors');
  });

  test.run();
}
