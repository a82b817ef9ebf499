// The pairing window against the real agent process (inside a test namespace): without a window an
// anonymous caller gets 401 on changes and 403 for a session; `station pair` (what a short press of
// the link button does) opens one; inside it a session is handed out and works for changes; once
// the 30 s have passed new sessions are refused again. The page's files are served small, gzipped,
// revalidated by ETag and under a strict Content-Security-Policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { exec } from '../../agent/exec.ts';
import { insideTestNetns } from '../e2e/in-netns.ts';
import { tempStateDir } from '../e2e/state-dir.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

if (await insideTestNetns(fileURLToPath(import.meta.url), 'pair')) {
  let agent: AgentHandle;
  const events: string[] = [];
  let stopEvents: AbortController;

  const post = (path: string, bearer?: string) => agent.api(path, { method: 'POST', json: {}, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

  test.before(async () => {
    agent = await startAgent({ stateDir: await tempStateDir(), env: { STATION_NAME: 'den', STATION_DISABLE: 'nodes,network,mesh,fleet' } });
    stopEvents = new AbortController();
    // Listen to the event stream the page listens to.
    void fetch(`${agent.baseUrl}/api/v1/events`, { signal: stopEvents.signal }).then(async (r) => {
      const decoder = new TextDecoder();
      for await (const chunk of r.body!) for (const m of decoder.decode(chunk as Uint8Array).matchAll(/^event: (\S+)$/gm)) events.push(m[1]!);
    }).catch(() => undefined);
  });
  test.after(async () => { stopEvents.abort(); await cleanupAll(); });

  test('closed: anonymous changes get 401, a session request 403 PAIRING_CLOSED', async () => {
    const change = await post('/api/v1/pairing/open');
    assert.is(change.status, 401);
    assert.is(await errorCode(change), 'UNAUTHORIZED');
    assert.is((await post('/api/v1/session/check')).status, 401);
    const session = await post('/api/v1/pairing/session');
    assert.is(session.status, 403);
    assert.is(await errorCode(session), 'PAIRING_CLOSED');
    assert.is(((await (await agent.api('/api/v1/pairing')).json()) as { open: boolean }).open, false);
  });

  test('`station pair` opens the window; inside it a session is handed out and works; after 30 s new sessions are refused', async () => {
    const cli = await exec([process.execPath, `${ROOT}scripts/cli/main.ts`, 'pair', '--json'], { env: { STATION_URL: agent.baseUrl, STATION_TOKEN: agent.token } });
    const opened = JSON.parse(cli.stdout) as { open: boolean; remainingSeconds: number; openedBy: string };
    assert.equal([opened.open, opened.remainingSeconds, opened.openedBy], [true, 30, 'api']);
    const openedAt = Date.now();

    const r = await post('/api/v1/pairing/session');
    assert.is(r.status, 200);
    const { token, expiresAt } = (await r.json()) as { token: string; expiresAt: string };
    assert.ok(new Date(expiresAt).getTime() > Date.now() + 3600_000);
    assert.is((await post('/api/v1/session/check', token)).status, 200);
    assert.is((await post('/api/v1/session/check', `${token}x`)).status, 401);
    // A real change with the session: Wi-Fi is off here (no NetworkManager), so the change is
    // authorised and then answered 503 with the reason, not 401.
    const change = await agent.api('/api/v1/wifi/networks/Home', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.is(change.status, 503);
    assert.is(await errorCode(change), 'WIFI_UNAVAILABLE');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, openedAt + 30_500 - Date.now())));
    const state = (await (await agent.api('/api/v1/pairing')).json()) as { open: boolean; activeSessions: number };
    assert.is(state.open, false);
    assert.is(state.activeSessions, 1);
    const refused = await post('/api/v1/pairing/session');
    assert.is(refused.status, 403);
    assert.is(await errorCode(refused), 'PAIRING_CLOSED');
    // The session handed out inside the window keeps working until it expires.
    assert.is((await post('/api/v1/session/check', token)).status, 200);
    assert.ok(events.includes('pairing.opened') && events.includes('pairing.session') && events.includes('pairing.closed'), events.join(','));
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
