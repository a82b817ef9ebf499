// The pairing window against the real agent process (inside a test namespace, with a LAN address,
// a mesh-like 100.64 address and one on an interface named as the node bridge): without a window an
// anonymous caller gets 401 on changes and 403 for a session; `station pair` (what a short press of
// the link button does) opens one; a browser on the LAN takes its one session, which closes it; the
// session works for changes but cannot open pairing or see other sessions; the admin lists and
// revokes sessions; nobody on the mesh or a node gets one; pairing events reach token holders only.
// The page's files are served small, gzipped, revalidated by ETag and under a strict CSP.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { exec } from '../../agent/exec.ts';
import { insideTestNetns } from '../e2e/in-netns.ts';
import { tempStateDir } from '../e2e/state-dir.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { runName } from '../helpers/run-prefix.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

if (await insideTestNetns(fileURLToPath(import.meta.url), 'pair')) {
  let agent: AgentHandle;
  let port = 0;
  const LAN = '198.18.62.1';
  const MESH = '100.64.9.1';
  const BRIDGE = '10.134.0.1';
  const bridgeName = runName('br');
  const streams: Record<'anonymous' | 'admin', string[]> = { anonymous: [], admin: [] };
  const stopEvents = new AbortController();

  /** A POST the way a browser at `address` makes it: connecting to a local address uses it as the source too. */
  const postAt = (address: string, path: string, bearer?: string) =>
    fetch(`http://${address}:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: '{}',
    });
  const post = (path: string, bearer?: string) => postAt('127.0.0.1', path, bearer);
  const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;
  const pairingState = async () => (await (await agent.api('/api/v1/pairing', { auth: true })).json()) as { open: boolean; activeSessions: number };

  test.before(async () => {
    // Three stand-ins, all inside this namespace: a LAN and a mesh address on one veth pair, and an
    // interface named as the station's node bridge with the default node subnet's gateway address.
    const pairs: [string, string, string, string][] = [
      [runName('lan'), `${LAN}/24`, runName('msh'), `${MESH}/10`],
      [bridgeName, `${BRIDGE}/24`, runName('brp'), ''],
    ];
    for (const [a, aAddr, b, bAddr] of pairs) {
      await exec(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      for (const [name, cidr] of [
        [a, aAddr],
        [b, bAddr],
      ] as const) {
        if (cidr) await exec(['ip', 'addr', 'add', cidr, 'dev', name]);
        await exec(['ip', 'link', 'set', name, 'up']);
      }
    }
    agent = await startAgent({
      stateDir: await tempStateDir(),
      env: { STATION_HTTP_HOST: '0.0.0.0', STATION_BRIDGE: bridgeName, STATION_NAME: 'den', STATION_DISABLE: 'nodes,network,mesh,fleet' },
    });
    port = Number(new URL(agent.baseUrl).port);
    // Listen to the event stream the page listens to, anonymously and with the token.
    for (const who of ['anonymous', 'admin'] as const) {
      const headers = who === 'admin' ? { authorization: `Bearer ${agent.token}` } : undefined;
      void fetch(`${agent.baseUrl}/api/v1/events`, { signal: stopEvents.signal, headers })
        .then(async (r) => {
          const decoder = new TextDecoder();
          for await (const chunk of r.body!) for (const m of decoder.decode(chunk as Uint8Array).matchAll(/^event: (\S+)$/gm)) streams[who].push(m[1]!);
        })
        .catch(() => undefined);
    }
  });
  test.after(async () => {
    stopEvents.abort();
    await cleanupAll();
  });

  test("closed: anonymous changes get 401, a session request 403 PAIRING_CLOSED; the window's state needs the token", async () => {
    const change = await post('/api/v1/pairing/open');
    assert.is(change.status, 401);
    assert.is(await errorCode(change), 'UNAUTHORIZED');
    assert.is((await post('/api/v1/session/check')).status, 401);
    const session = await postAt(LAN, '/api/v1/pairing/session');
    assert.is(session.status, 403);
    assert.is(await errorCode(session), 'PAIRING_CLOSED');
    assert.is((await agent.api('/api/v1/pairing')).status, 401);
    assert.is((await pairingState()).open, false);
  });

  test('`station pair` opens the window; a browser on the LAN takes its one session, which closes it; the session works for changes', async () => {
    const cli = await exec([process.execPath, `${ROOT}scripts/cli/main.ts`, 'pair', '--json'], {
      env: { STATION_URL: agent.baseUrl, STATION_TOKEN: agent.token },
    });
    const opened = JSON.parse(cli.stdout) as { open: boolean; remainingSeconds: number; openedBy: string };
    assert.equal([opened.open, opened.remainingSeconds, opened.openedBy], [true, 30, 'api']);

    const r = await postAt(LAN, '/api/v1/pairing/session');
    assert.is(r.status, 200);
    const { token, expiresAt, id } = (await r.json()) as { token: string; expiresAt: string; id: string };
    assert.ok(new Date(expiresAt).getTime() > Date.now() + 3600_000);
    // One session per window: it closed as the session was taken; a second browser finds it shut.
    const after = await pairingState();
    assert.equal([after.open, after.activeSessions], [false, 1]);
    const second = await post('/api/v1/pairing/session');
    assert.is(second.status, 403);
    assert.is(await errorCode(second), 'PAIRING_CLOSED');

    assert.is((await post('/api/v1/session/check', token)).status, 200);
    assert.is((await post('/api/v1/session/check', `${token}x`)).status, 401);
    // A real change with the session: Wi-Fi is off here (no NetworkManager), so the change is
    // authorised and then answered 503 with the reason, not 401.
    const change = await agent.api('/api/v1/wifi/networks/Home', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.is(change.status, 503);
    assert.is(await errorCode(change), 'WIFI_UNAVAILABLE');

    // The session cannot open another window (it would renew itself) nor see the other sessions.
    const reopen = await post('/api/v1/pairing/open', token);
    assert.is(reopen.status, 403);
    assert.is(await errorCode(reopen), 'PAIRING_NEEDS_ADMIN_TOKEN');
    assert.is((await agent.api('/api/v1/pairing/sessions', { headers: { authorization: `Bearer ${token}` } })).status, 403);
    assert.is((await agent.api('/api/v1/pairing/sessions')).status, 401);

    // The admin sees who took it, and ends it.
    const list = (await (await agent.api('/api/v1/pairing/sessions', { auth: true })).json()) as {
      sessions: { id: string; client: string }[];
    };
    assert.equal(
      list.sessions.map((s) => [s.id, s.client]),
      [[id, LAN]],
    );
    assert.not.match(JSON.stringify(list), token);
    const revoked = await agent.api(`/api/v1/pairing/sessions/${id}`, { method: 'DELETE', auth: true });
    assert.is(revoked.status, 200);
    assert.is((await post('/api/v1/session/check', token)).status, 401);
  });

  test('nobody on the mesh or a node gets a session, even with the window open', async () => {
    assert.is((await post('/api/v1/pairing/open', agent.token)).status, 200);
    for (const address of [MESH, BRIDGE]) {
      const r = await postAt(address, '/api/v1/pairing/session');
      assert.is(r.status, 403, address);
      assert.is(await errorCode(r), 'PAIRING_NOT_FROM_LAN');
    }
    assert.is((await pairingState()).open, true, 'the refusals did not use the window up');
    assert.is((await postAt(LAN, '/api/v1/pairing/session')).status, 200);
  });

  test('pairing events reach token holders only', async () => {
    assert.ok(
      ['pairing.opened', 'pairing.session', 'pairing.closed', 'pairing.revoked'].every((e) => streams.admin.includes(e)),
      streams.admin.join(','),
    );
    assert.equal(
      streams.anonymous.filter((e) => e.startsWith('pairing.')),
      [],
    );
  });

  test('the page: small, gzipped, revalidated by ETag, strict CSP, no external assets', async () => {
    const page = await fetch(`${agent.baseUrl}/`, { headers: { 'accept-encoding': 'gzip' } });
    assert.is(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /<title>Station<\/title>/);
    assert.not.match(html, /https?:\/\//, 'no external asset is referenced');
    const again = await fetch(`${agent.baseUrl}/`, { headers: { 'if-none-match': page.headers.get('etag')! } });
    assert.is(again.status, 304);
    let total = 0;
    for (const file of ['/', '/app.js', '/app.css', '/favicon.svg']) {
      const raw = await exec(['curl', '-sS', '-H', 'accept-encoding: gzip', '-D', '-', '-o', '/dev/null', '-w', '%{size_download}', `${agent.baseUrl}${file}`]);
      assert.match(raw.stdout, /content-encoding: gzip/i, file);
      total += Number(raw.stdout.trim().split('\n').at(-1));
    }
    assert.ok(total < 150 * 1024, `${total} bytes`);
    const js = await fetch(`${agent.baseUrl}/app.js`);
    assert.not.match(await js.text(), /https?:\/\/(?!localhost)[a-z]/, 'the script fetches nothing from elsewhere');
  });

  test('captive-portal probes: answered as online while no setup hotspot is open', async () => {
    assert.is((await fetch(`${agent.baseUrl}/generate_204`)).status, 204);
    const apple = await fetch(`${agent.baseUrl}/hotspot-detect.html`, { redirect: 'manual' });
    assert.is(apple.status, 200);
  });

  test.run();
}
