// Issue 11, "Fuzz every route": property-based requests (fast-check, fixed seed, bounded) to every
// route of the OpenAPI document and the page routes, with and without the token, with random and
// boundary values, oversized and deeply nested bodies, odd paths, queries and headers. On every
// answer: no 5xx but the documented 503s, the error shape on every 4xx/5xx, no stack trace or
// source path, never the admin token (or a key) to a caller without it, nothing served to a
// foreign Host or changed for a foreign Origin, no 2xx without the token where it is needed, and
// nothing changed by a refused request. The longer run is `./scripts/dev bench fuzz`.
// Two stations: the default one in this process (subsystems that touch neither the network nor
// hardware), and a live one in a network namespace where nodes, network and mesh really work.
// Known failures (known-failures.ts) are counted and listed; any other finding fails its test.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultStation, type DefaultStation } from '../../helpers/fuzz/stations.ts';
import { allOperations, byGroup, type Operation } from '../../helpers/fuzz/operations.ts';
import { fuzzGroup, type GroupResult, type Finding } from '../../helpers/fuzz/fuzzer.ts';
import { checkAnswer, type CheckContext } from '../../helpers/fuzz/invariants.ts';
import { snapshot, differences } from '../../helpers/fuzz/snapshot.ts';
import { KNOWN_FAILURES, reproduces } from '../../helpers/fuzz/known-failures.ts';
import { liveUnavailable, runLive } from '../../helpers/fuzz/live.ts';
import { pathOf } from '../../helpers/fuzz/send.ts';
import type { FuzzRequest } from '../../helpers/fuzz/requests.ts';
import { cleanupAll } from '../../helpers/cleanup.ts';

const SEED = 110_011; // fixed: the suite sends the same requests every run
const REQUESTS_PER_GROUP = 150;
const LIVE_REQUESTS_PER_GROUP = 40;
const EXPECTED_GROUPS = ['station', 'nodes', 'pairing', 'wifi', 'mesh', 'aliases', 'disk', 'replicas', 'orchestrator', 'page'];

interface Ctx {
  d: DefaultStation;
  operations: Operation[];
  results: GroupResult[];
}
const t = suite<Ctx>('route fuzzer');

t.before(async (ctx) => {
  ctx.d = await defaultStation();
  ctx.operations = (await allOperations(ctx.d.station.app)).operations;
  ctx.results = [];
});
t.after(async (ctx) => {
  await ctx.d.close();
  await cleanupAll();
  const known = new Map<string, number>();
  for (const r of ctx.results) for (const [id, n] of Object.entries(r.known)) known.set(id, (known.get(id) ?? 0) + n);
  for (const k of KNOWN_FAILURES) {
    console.log(`  known failure ${k.id}: ${known.get(k.id) ? `seen ${known.get(k.id)} times` : 'not seen in this bounded run'}`);
  }
});

const describeFindings = (findings: Finding[]) =>
  findings
    .map(
      (f) =>
        `${f.route} [${f.kinds.join(',')}] ${JSON.stringify(f.request)} -> ${f.response.statusCode} ${f.response.body.slice(0, 200)}\n    ` +
        `${f.violations.map((v) => v.reason).join('\n    ')}`,
    )
    .join('\n');

t('every documented route is in a fuzzed group', ({ operations }) => {
  const groups = byGroup(operations);
  assert.equal([...groups.keys()].sort(), [...EXPECTED_GROUPS].sort(), 'groups (a new first path segment needs a group here)');
  const documented = operations.filter((o) => !o.hidden);
  assert.ok(documented.length >= 38, `${documented.length} documented operations`);
  for (const route of [
    'POST /api/v1/nodes',
    'PATCH /api/v1/nodes/{name}',
    'POST /api/v1/mesh/enrol',
    'POST /api/v1/wifi/connect',
    'POST /api/v1/pairing/session',
    'GET /api/v1/events',
  ]) {
    assert.ok(
      documented.some((o) => `${o.method} ${o.path}` === route),
      `${route} is fuzzed`,
    );
  }
  assert.ok(
    operations.some((o) => o.hidden && o.path === '/'),
    'the status page is fuzzed too',
  );
});

// The checks must be able to fail: each invariant is shown a bad answer it has to catch.
t('the invariants catch a 500, a stack, a foreign Host served, the token, a bad shape, a change', async ({ d }) => {
  const ctx: CheckContext = { token: d.target.token, secrets: () => ['KEYLINE0123456789abcdefKEY'], rootPath: d.target.rootPath, pathOf };
  const req: FuzzRequest = {
    method: 'POST',
    route: 'POST /api/v1/nodes',
    url: '/api/v1/nodes',
    headers: { host: 'localhost' },
    payload: '{}',
    credential: 'none',
    host: 'own',
    origin: 'none',
    remoteAddress: '127.0.0.1',
  };
  const kinds = (res: { statusCode: number; body: string }, r: FuzzRequest = req, needsToken = true) =>
    checkAnswer(r, { headers: {}, ...res }, ctx, needsToken).map((v) => v.kind);
  assert.equal(kinds({ statusCode: 500, body: '{"error":{"code":"INTERNAL","message":"x"}}' }), ['server-error']);
  assert.equal(kinds({ statusCode: 503, body: '{"error":{"code":"NODES_UNAVAILABLE","message":"off"}}' }), []);
  assert.equal(kinds({ statusCode: 503, body: '{"error":{"code":"SOMETHING_ELSE","message":"x"}}' }), ['server-error']);
  assert.equal(kinds({ statusCode: 400, body: '{"error":"Bad Request","message":"x"}' }), ['error-shape']);
  assert.equal(kinds({ statusCode: 400, body: `{"error":{"code":"X","message":"at f (${d.target.rootPath}/api/app.ts:1:2)"}}` }), ['stack-or-path']);
  assert.equal(kinds({ statusCode: 404, body: `{"error":{"code":"X","message":"${d.target.token}"}}` }), ['secret']);
  assert.equal(kinds({ statusCode: 404, body: '{"error":{"code":"X","message":"KEYLINE0123456789abcdefKEY"}}' }), ['secret']);
  assert.equal(kinds({ statusCode: 201, body: '{}' }), ['no-token-accepted']);
  assert.equal(
    kinds({ statusCode: 200, body: '{}' }, { ...req, method: 'GET', url: '/api/v1/status', host: 'foreign', headers: { host: 'evil.example' } }, false),
    ['foreign-host-served'],
  );
  assert.equal(
    kinds({ statusCode: 200, body: '{}' }, { ...req, credential: 'admin', origin: 'foreign', headers: { host: 'localhost', origin: 'http://evil.example' } }),
    ['foreign-origin-changed'],
  );
  assert.equal(kinds({ statusCode: 201, body: '{}' }, { ...req, credential: 'admin' }), []);
  // A file written in the state directory is a change of state.
  const before = await snapshot(d.station.system, d.station.stateDir);
  mkdirSync(join(d.station.stateDir, 'fuzz-probe'), { recursive: true });
  writeFileSync(join(d.station.stateDir, 'fuzz-probe', 'x'), 'changed');
  assert.ok(differences(before, await snapshot(d.station.system, d.station.stateDir)).some((line) => line.startsWith('file:fuzz-probe/x')));
  rmSync(join(d.station.stateDir, 'fuzz-probe'), { recursive: true });
  // A pairing window its own timer closed during the request is not a change the request made; one closed early is.
  const open = (closesAt: string) => ({
    pairing: JSON.stringify({ open: true, closesAt, openedBy: 'api', activeSessions: 0 }),
    status: '{"pairing":true}',
  });
  const closed = {
    pairing: JSON.stringify({ open: false, closesAt: null, openedBy: null, activeSessions: 0 }),
    status: '{"pairing":false}',
  };
  assert.equal(differences(open(new Date(Date.now() - 10).toISOString()), closed), []);
  assert.equal(differences(open(new Date(Date.now() + 20_000).toISOString()), closed).length, 2);
});

// Strict: a known failure that no longer happens fails here, so the list never hides a fixed (or
// changed) behaviour; remove its entry from test/helpers/fuzz/known-failures.ts then.
t('each known failure still happens (remove it from known-failures.ts once fixed)', async ({ d }) => {
  for (const known of KNOWN_FAILURES.filter((k) => k.repro.station === 'default')) {
    assert.ok(
      await reproduces(known, d.target),
      `${known.id} no longer happens with ${known.repro.method} ${known.repro.url}: remove it from the known failures`,
    );
  }
});

for (const group of EXPECTED_GROUPS) {
  t(`default station, ${group} routes: no finding over ${REQUESTS_PER_GROUP} requests (seed ${SEED})`, async (ctx) => {
    const ops = byGroup(ctx.operations).get(group) ?? [];
    assert.ok(ops.length > 0, `${group} has routes`);
    const result = await fuzzGroup(ctx.d.target, group, ops, { requests: REQUESTS_PER_GROUP, seed: SEED });
    ctx.results.push(result);
    assert.is(result.requests, REQUESTS_PER_GROUP, 'every request was drawn and sent');
    assert.equal(result.findings, [], `findings:\n${describeFindings(result.findings)}`);
  });
}

t(`live station (nodes, network, mesh on in a test namespace): no finding over ${LIVE_REQUESTS_PER_GROUP} requests per group`, async (ctx) => {
  const why = await liveUnavailable();
  if (why) {
    console.log(`  live station skipped: ${why}`);
    return;
  }
  const live = await runLive({ requestsPerGroup: LIVE_REQUESTS_PER_GROUP, seed: SEED, timeoutMs: 240_000 });
  for (const name of ['nodes', 'network', 'mesh']) {
    assert.ok(
      live.subsystems.some((s) => s.startsWith(`${name}:ok`)),
      `${name} runs in the live station: ${live.subsystems.join(', ')}`,
    );
  }
  assert.equal(live.results.map((r) => r.group).sort(), [...EXPECTED_GROUPS].sort());
  for (const [id, still] of Object.entries(live.reproduced))
    assert.ok(still, `known failure ${id} no longer happens in the live station: remove it from the known failures`);
  ctx.results.push(...live.results);
  const findings = live.results.flatMap((r) => r.findings);
  assert.equal(findings, [], `findings:\n${describeFindings(findings)}`);
});

t.run();
