// The status page's replicas (issue 14) in headless Chromium against a real agent, inside a test
// network namespace (test/e2e/in-netns.ts). What a user sees:
// - a station in no mesh: the Replicas panel says its lease store has no member here and why, and
//   that failover is manual with the reason;
// - the mesh made (through the API): without a reload, the panel shows the one-member lease store
//   the agent starts on the authority (this station its leader), failover still manual;
// - a replicated node that runs here: its card shows where its Inactive copies are, each with its
//   state and lag (green in sync, red failing with the error), and its lease; the panel shows a copy
//   held here with why it would not promote itself, and the promotions and fences seen since the page
//   opened; a copy catching up turns green on the next event, without a reload;
// - GET /replicas answering 503: the panel and the card say so, nothing breaks.
// Copies on other stations need a testbed of three (test/integration/replicas-failover.test.ts):
// for the node's card the page's own requests are answered here with the agent's real answers plus
// the node's replicas (GET /nodes: its spec; GET /replicas: its copies, in the API's shape), and its
// first event stream carries replicas.* events before it reconnects to the agent's real one.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { insideTestNetns } from './in-netns.ts';
import { watchErrors } from './browser.ts';
import { markPage, notReloaded, openLive, type PageSession, startPageSession } from './page-session.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { runName } from '../helpers/run-prefix.ts';
import { COPY_FAILING_ON_S3, COPY_IN_SYNC_ON_S2 } from '../helpers/replicas-answers.ts';

if (await insideTestNetns(fileURLToPath(import.meta.url), 'rep')) {
  let session: PageSession;
  const web = runName('rw');
  const nodesAvailable = { yes: false };
  const meshMade = { yes: false };

  const open = async (p: Page) => {
    await openLive(p, session.agent.baseUrl);
    await markPage(p);
  };
  const text = async (p: Page, selector: string) => (await p.textContent(selector)) ?? '';

  test.before(async () => {
    session = await startPageSession('198.18.96.0/24', { width: 1280, height: 900 });
    nodesAvailable.yes = session.nodesAvailable;
  });
  test.after(async () => {
    await cleanupAll();
  });

  test('a station in no mesh: the Replicas panel says its lease store has no member here, and failover is manual with the reason', async () => {
    await open(session.page);
    await session.page.waitForSelector('#replicas [data-lease-store="none"]');
    const store = await text(session.page, '#replicas [data-lease-store]');
    assert.match(store, /not a member/);
    assert.match(store, /this station is in no mesh/);
    assert.match(
      await text(session.page, '#replicas [data-failover="manual"]'),
      /manual.*automatic failover needs three of the owner's stations, so only a person promotes/,
    );
    assert.match(await text(session.page, '#replicas'), /No Inactive copies of the owner's other nodes here\./);
    assert.match(await text(session.page, '#replicas'), /No promotions or fences since this page opened\./);
    assert.is(await session.page.$('.node-replicas'), null, 'no card shows replicas');
    assert.equal(session.pageErrors, []);
  });

  test('the mesh made: without a reload, the panel shows the one-member lease store with this station its leader, failover still manual', async () => {
    const mesh = await session.agent.api('/api/v1/mesh', { method: 'POST', auth: true, json: { owner: 'alice' } });
    if (mesh.status !== 200 && mesh.status !== 201) {
      console.log(`mesh not available here (${mesh.status} ${await mesh.text()}): skipping the lease store`);
      return;
    }
    meshMade.yes = true;
    // The agent starts the store's member at its next round and announces no event for it: the
    // page reads again while the store settles.
    await session.page.waitForSelector('#replicas [data-lease-store="serving"]', { timeout: 45_000 });
    assert.match(await text(session.page, '#replicas [data-lease-store]'), /serving 1 voting of 1/);
    await session.page.waitForSelector('#replicas li[data-member="den"][data-role="leader"]');
    assert.match(await text(session.page, '#replicas [data-failover="manual"]'), /the lease store has 1 voting member\(s\)/);
    await notReloaded(session.page);
    assert.equal(session.pageErrors, []);
  });

  test("a replicated node here: its card shows its copies' state, lag and lease; the panel a copy held here and the history; live", async () => {
    if (!nodesAvailable.yes) {
      console.log('node API not available in this tree: skipping the node card');
      return;
    }
    const created = await session.agent.api('/api/v1/nodes', {
      method: 'POST',
      auth: true,
      json: { name: web, template: 'busybox', resources: { memoryMB: 32 }, modules: [{ name: 'main', run: 'exec sleep 1000' }] },
    });
    assert.is(created.status, 201, await created.clone().text());

    // The node's copies on s2 and s3 as its Active (this station) would report them; s3's last pull
    // failed until `caughtUp`. And a copy of s2's node "cam" held here, which would not promote itself.
    let caughtUp = false;
    const s2 = {
      ...COPY_IN_SYNC_ON_S2,
      snapshotAt: new Date(Date.now() - 12_000).toISOString(),
      sentAt: new Date(Date.now() - 10_000).toISOString(),
    };
    const s3InSync = { ...s2, station: 's3', lagSeconds: 2.1 };
    const copies = () => [
      {
        node: 'cam',
        role: 'inactive',
        active: 's2',
        lease: null,
        replicas: [],
        lagSeconds: 41.5,
        held: 'the lease store has 1 voting member(s): failover is manual',
      },
      {
        node: web,
        role: 'active',
        active: 'den',
        lease: { held: true, token: 7, holder: 'den', reason: null },
        replicas: [s2, caughtUp ? s3InSync : COPY_FAILING_ON_S3],
        lagSeconds: null,
        held: null,
      },
    ];
    const first = new Date().toISOString();
    const replicaEvents = [
      { id: 900001, type: 'replicas.fenced', at: first, data: { node: web, why: 'the lease store did not answer within 10 s', stopped: false } },
      { id: 900002, type: 'replicas.lease.taken', at: first, data: { node: web, token: 7 } },
      { id: 900003, type: 'replicas.promoted', at: first, data: { node: 'tv', from: 's2', token: 12, lagSeconds: 4.2, forced: false, automatic: false } },
    ];

    const owner = await session.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const ownerErrors = watchErrors(owner);
    await owner.route('**/api/v1/replicas', async (route) => {
      const real = (await (await route.fetch()).json()) as Record<string, unknown>;
      await route.fulfill({ json: { ...real, nodes: copies() } });
    });
    await owner.route('**/api/v1/nodes', async (route) => {
      const real = (await (await route.fetch()).json()) as { nodes: { name: string; spec: Record<string, unknown> }[] };
      for (const n of real.nodes) if (n.name === web) n.spec.replicas = { stations: ['s2', 's3'], failover: 'auto', maxLagSeconds: 60 };
      await route.fulfill({ json: real });
    });
    let streams = 0;
    await owner.route('**/api/v1/events', async (route) => {
      if (streams++ > 0) return route.continue();
      // no id: lines, so the reconnection asks the agent for its stream from now on
      const body = `retry: 300\n\n${replicaEvents.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')}`;
      await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body });
    });
    await open(owner);
    assert.ok(streams >= 2, 'the page reconnected to the real event stream');

    const card = `.node[data-node="${web}"] .node-replicas`;
    await owner.waitForSelector(`${card} li[data-station="s3"]`, { timeout: 30_000 });
    assert.is(await owner.textContent(`${card} .pill`), '1/2');
    assert.is(await owner.getAttribute(`${card} .pill`, 'data-state'), 'degraded');
    assert.match(await text(owner, `${card} .lease`), /^lease held · token 7$/);
    assert.is(await owner.getAttribute(`${card} li[data-station="s2"]`, 'data-level'), 'ok');
    assert.match(await text(owner, `${card} li[data-station="s2"]`), /^s2 in sync · 1\d s$/);
    assert.is(await owner.getAttribute(`${card} li[data-station="s3"]`, 'data-level'), 'error');
    assert.match(
      await text(owner, `${card} li[data-station="s3"]`),
      /^s3 failing s3 does not answer on its mesh address \(connect ETIMEDOUT 10\.42\.0\.3:8088\)$/,
    );

    const held = await text(owner, '#replicas li[data-copy="cam"]');
    assert.match(held, /Active on s2 · newest snapshot 4\d s old/);
    assert.match(held, /would not promote itself: the lease store has 1 voting member\(s\): failover is manual/);
    // the history: the promotions and fences of the events seen since the page opened, newest first
    assert.equal(await owner.$$eval('#replicas .replica-history li', (items) => items.map((li) => li.getAttribute('data-type'))), [
      'replicas.promoted',
      'replicas.lease.taken',
      'replicas.fenced',
    ]);
    assert.match(await text(owner, '#replicas .replica-history'), /tv: promoted here from s2 \(by hand, token 12, lag 4\.2 s\)/);
    assert.match(await text(owner, '#replicas .replica-history'), /fenced \(the lease store did not answer within 10 s\); kept running: failover is manual/);
    // and the activity list says the same in one line
    assert.match(await text(owner, '#events li[data-type="replicas.fenced"]'), /fenced/);
    if (meshMade.yes) assert.match(await text(owner, '#replicas [data-failover]'), /manual/);

    // s3 catches up; the next event (the node stopped, from the agent's own stream) shows it, without a reload
    caughtUp = true;
    const stopped = await session.agent.api(`/api/v1/nodes/${web}/stop`, { method: 'POST', auth: true, json: {} });
    assert.is(stopped.status, 200, await stopped.clone().text());
    await owner.waitForSelector(`${card} li[data-station="s3"][data-level="ok"]`, { timeout: 30_000 });
    assert.is(await owner.textContent(`${card} .pill`), '2/2');
    assert.is(await owner.getAttribute(`${card} .pill`, 'data-state'), 'ok');
    await notReloaded(owner);
    assert.equal(ownerErrors, []);
    await owner.close();
  });

  test('GET /replicas answering 503: the panel and the card say so, and the page goes on', async () => {
    const p = await session.browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors = watchErrors(p);
    await p.route('**/api/v1/replicas', (route) =>
      route.fulfill({
        status: 503,
        json: { error: { code: 'REPLICAS_UNAVAILABLE', message: 'replicas are turned off on this station (STATION_DISABLE)' } },
      }),
    );
    await p.route('**/api/v1/nodes', async (route) => {
      const real = (await (await route.fetch()).json()) as { nodes: { name: string; spec: Record<string, unknown> }[] };
      for (const n of real.nodes) if (n.name === web) n.spec.replicas = { stations: ['s2', 's3'], failover: 'auto', maxLagSeconds: 60 };
      await route.fulfill({ json: real });
    });
    await open(p);
    await p.waitForSelector('#replicas p');
    assert.match(await text(p, '#replicas'), /Replicas unavailable: replicas are turned off on this station \(STATION_DISABLE\)/);
    if (nodesAvailable.yes) assert.match(await text(p, `.node[data-node="${web}"] .node-replicas`), /s2, s3 · Replicas unavailable/);
    assert.match(await text(p, '#mesh'), meshMade.yes ? /alice/ : /./);
    // the one error: the refused request itself
    assert.equal(
      errors.map((e) => /status of (\d+).*\/api\/v1\/replicas\)$/.exec(e)?.[1] ?? e),
      ['503'],
    );
    await p.close();
  });

  test.run();
}
