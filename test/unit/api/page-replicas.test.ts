// The status page's replicas (api/web/replicas.js): what it shows from GET /api/v1/replicas and the
// replicas.* events, on realistic JSON (the shapes of api/routes/replicas.ts and agent/event-map.ts).
// replicas.js is a classic script that shares one scope with app.js: it is run here as the browser
// runs it (node:vm, a script, not a module) and its pure functions are called; the rendering is
// tested in Chromium (test/e2e/page-replicas.test.ts). Also: index.html loads it before app.js, and
// the two scripts declare no name twice (a second `const` of a name is a SyntaxError in a browser,
// a second `function` silently replaces the first).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createContext, runInContext } from 'node:vm';
import { COPY_FAILING_ON_S3, COPY_IN_SYNC_ON_S2, MANUAL_FAILOVER, TWO_VOTER_LEASE_STORE } from '../../helpers/replicas-answers.ts';

const WEB = new URL('../../../api/web/', import.meta.url);
const source = (file: string) => readFileSync(new URL(file, WEB), 'utf8');

interface Look {
  level: string;
  label: string;
  why: string | null;
}
interface Page {
  replicaLagText(s: number | null): string;
  replicaLagNow(lag: number | null, readAt: number, now: number): number | null;
  replicaMaxLag(node: unknown): number;
  replicaLook(replica: unknown, maxLagSeconds: number, lag: number | null): Look;
  replicaCount(looks: Look[]): { inSync: number; total: number; level: string };
  replicaLease(lease: unknown): { level: string; text: string };
  replicaStoreLook(store: unknown): { level: string; label: string };
  replicaMemberRole(member: unknown): string;
  replicaFailover(failover: unknown, wantsAutomatic: boolean): { level: string; label: string; reason: string | null };
  replicaHeldCopy(view: unknown, lag: number | null): { active: string; lag: string; held: string | null };
  replicaEventText(e: unknown): string;
  replicaHistoryEntry(e: unknown): { type: string; at: string; text: string; level: string } | null;
}
const context = createContext({});
runInContext(source('replicas.js'), context, { filename: 'replicas.js' });
// Each function's answer as plain data of this realm (the script's objects have the context's Object).
const plain = (value: unknown) => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
const page = new Proxy(context, {
  get: (target, name) => {
    const fn = Reflect.get(target, name);
    if (typeof fn !== 'function') throw new Error(`replicas.js has no function ${String(name)}`);
    return (...args: unknown[]) => plain(fn(...args));
  },
}) as unknown as Page;

// GET /replicas on s1, whose node "web" has copies on s2 (in sync) and s3 (its last pull failed),
// and which holds an Inactive copy of "db" (Active on s2, held back by a two-member store).
const ON_S1 = {
  leaseStore: TWO_VOTER_LEASE_STORE,
  failover: MANUAL_FAILOVER,
  nodes: [
    {
      node: 'db',
      role: 'inactive',
      active: 's2',
      lease: null,
      replicas: [],
      lagSeconds: 41.5,
      held: 'the lease store has 2 voting member(s): failover is manual',
    },
    {
      node: 'web',
      role: 'active',
      active: 's1',
      lease: { held: true, token: 7, holder: 's1', reason: null },
      replicas: [COPY_IN_SYNC_ON_S2, COPY_FAILING_ON_S3],
      lagSeconds: null,
      held: null,
    },
  ],
};
const web = ON_S1.nodes[1]!;
const [s2, s3] = web.replicas;

test('a copy in sync with a lag under maxLagSeconds is green; at or over it, amber "behind" with why', () => {
  assert.equal(page.replicaLook(s2, 120, 12.3), { level: 'ok', label: 'in sync', why: null });
  const behind = page.replicaLook(s2, 10, 12.3);
  assert.equal([behind.level, behind.label], ['degraded', 'behind']);
  assert.match(behind.why!, /12 s old \(maxLagSeconds 10\)/);
});

test('sending and waiting are amber; failing and offline are red with the error', () => {
  assert.equal(page.replicaLook({ ...s2, sending: true }, 120, 3).label, 'sending');
  assert.equal(page.replicaLook({ ...s2, sending: true }, 120, 3).level, 'degraded');
  assert.equal(page.replicaLook({ ...s3, state: 'waiting', error: null }, 120, null), { level: 'degraded', label: 'waiting', why: 'no snapshot copied yet' });
  assert.equal(page.replicaLook(s3, 120, null), { level: 'error', label: 'failing', why: s3!.error });
  // a failing copy that is also being retried stays red
  assert.is(page.replicaLook({ ...s3, sending: true }, 120, null).level, 'error');
  assert.equal(page.replicaLook({ ...s3, state: 'offline', error: null }, 120, 80), { level: 'error', label: 'offline', why: 'the station is offline' });
});

test('the card counts copies in sync of all: green when all, amber when some, red when none', () => {
  const looks = web.replicas.map((r) => page.replicaLook(r, 120, r.lagSeconds ?? null));
  assert.equal(page.replicaCount(looks), { inSync: 1, total: 2, level: 'degraded' });
  assert.equal(page.replicaCount([looks[0]!]), { inSync: 1, total: 1, level: 'ok' });
  assert.equal(page.replicaCount([looks[1]!]), { inSync: 0, total: 1, level: 'error' });
});

test('the lease: held with its token, held by another station, or not held with why', () => {
  assert.equal(page.replicaLease(web.lease), { level: 'ok', text: 'lease held · token 7' });
  assert.equal(page.replicaLease({ held: false, token: null, holder: 's2', reason: 's2 holds the lease' }), { level: 'error', text: 'lease held by s2' });
  assert.equal(page.replicaLease({ held: false, token: null, holder: null, reason: 'fenced: the lease store does not answer' }), {
    level: 'degraded',
    text: 'lease not held: fenced: the lease store does not answer',
  });
  assert.is(page.replicaLease(null).text, 'lease unknown');
});

test("lag grows from its reading (the snapshot held only gets older); maxLagSeconds from the node's spec, 120 by default", () => {
  assert.is(page.replicaLagNow(12.3, 1_000, 6_000), 17.3);
  assert.is(page.replicaLagNow(null, 1_000, 6_000), null);
  assert.is(page.replicaLagNow(5, 6_000, 1_000), 5, 'a clock behind the reading does not shrink it');
  assert.is(page.replicaMaxLag({ name: 'web', spec: { replicas: { stations: ['s2'], failover: 'auto', maxLagSeconds: 30 } } }), 30);
  assert.is(page.replicaMaxLag({ name: 'web', spec: {} }), 120);
  assert.equal(['–', '4.2 s', '12 s', '3 min', '2 h 5 min', '3 d'], [null, 4.24, 12.3, 200, 7500, 3 * 86400 + 5].map(page.replicaLagText));
});

test('the lease store: serving, starting or not a member; members by role; failover automatic, or manual with the reason', () => {
  assert.equal(page.replicaStoreLook(ON_S1.leaseStore), { level: 'ok', label: 'serving' });
  assert.equal(page.replicaStoreLook({ member: 'starting', reason: null, members: [], voters: 0 }), { level: 'degraded', label: 'starting' });
  assert.equal(page.replicaStoreLook({ member: 'none', reason: 'this station is in no mesh', members: [], voters: 0 }), {
    level: 'off',
    label: 'not a member',
  });
  assert.equal(ON_S1.leaseStore.members.map(page.replicaMemberRole), ['leader', 'voter', 'learner']);
  // manual: amber only when a node here asks for automatic failover
  assert.equal(page.replicaFailover(ON_S1.failover, true), { level: 'degraded', label: 'manual', reason: ON_S1.failover.reason });
  assert.is(page.replicaFailover(ON_S1.failover, false).level, 'off');
  assert.equal(page.replicaFailover({ automatic: true, reason: null }, true), { level: 'ok', label: 'automatic', reason: null });
});

test('a copy held here: where its Active runs, how old its newest snapshot is, why it would not promote itself', () => {
  const db = ON_S1.nodes[0]!;
  assert.equal(page.replicaHeldCopy(db, 41.5), {
    active: 'Active on s2',
    lag: 'newest snapshot 42 s old',
    held: 'would not promote itself: the lease store has 2 voting member(s): failover is manual',
  });
  assert.equal(page.replicaHeldCopy({ ...db, held: null }, 3).held, "standing by: the Active's lease is held");
  assert.equal(page.replicaHeldCopy({ ...db, active: null, held: null }, null), { active: 'nobody holds its lease', lag: 'no snapshot yet', held: null });
});

const at = '2025-06-01T10:00:05.000Z';
const EVENTS = [
  {
    type: 'replicas.promoted',
    at,
    data: { node: 'db', from: 's2', token: 12, lagSeconds: 4.2, forced: false, automatic: true },
    text: 'db: promoted here from s2 (automatic, token 12, lag 4.2 s)',
    level: 'ok',
  },
  {
    type: 'replicas.fenced',
    at,
    data: { node: 'web', why: 'the lease was not renewed within 10 s', stopped: true },
    text: 'web: fenced (the lease was not renewed within 10 s); stopped: another station may take over',
    level: 'error',
  },
  {
    type: 'replicas.demoted',
    at,
    data: { node: 'web', active: 's2', diverged: 'diverged-2025-06-01T10.00.05.000Z' },
    text: 'web: demoted, s2 runs the Active copy; what was written here alone is kept as diverged-2025-06-01T10.00.05.000Z',
    level: 'degraded',
  },
  { type: 'replicas.lease.taken', at, data: { node: 'web', token: 7 }, text: 'web: lease taken, token 7', level: 'off' },
  { type: 'replicas.active', at, data: { node: 'web', station: null }, text: 'web: nobody holds its lease', level: 'off' },
  { type: 'replicas.member.added', at, data: { name: 's3' }, text: 'lease store: s3 added (a learner until it caught up)', level: 'off' },
  {
    type: 'replicas.member.removed',
    at,
    data: { name: 's3', why: 'gone for 600 s' },
    text: 'lease store: s3 removed (gone for 600 s)',
    level: 'degraded',
  },
];

test('promotions, fences, demotions, leases and members go into the history, each in one line', () => {
  for (const e of EVENTS) {
    assert.equal(page.replicaHistoryEntry({ type: e.type, at: e.at, data: e.data }), { type: e.type, at, text: e.text, level: e.level }, e.type);
  }
});

test('copies sent and failed go to the activity list in one line, not into the history', () => {
  const sent = {
    type: 'replicas.copy.sent',
    at,
    data: { node: 'web', station: 's2', volume: 'data', snapshot: 'auto-2025-06-01T10.00.00.000Z', bytes: 4096, seconds: 0.42, whole: false },
  };
  const failed = { type: 'replicas.copy.failed', at, data: { node: 'web', station: 's3', reason: 'connect ETIMEDOUT' } };
  assert.is(page.replicaEventText(sent), 'web: s2 got data auto-2025-06-01T10.00.00.000Z in 0.4 s');
  assert.is(page.replicaEventText(failed), 'web: copying to s3 failed: connect ETIMEDOUT');
  assert.is(page.replicaHistoryEntry(sent), null);
  assert.is(page.replicaHistoryEntry(failed), null);
  assert.is(page.replicaEventText({ type: 'node.created', at, data: { name: 'web' } }), '');
});

test('index.html loads replicas.js and orchestrator.js before app.js, and the scripts declare no name twice', () => {
  const html = source('index.html');
  const scripts = [...html.matchAll(/<script src="\/([^"]+)" defer><\/script>/g)].map((m) => m[1]);
  assert.equal(scripts, ['replicas.js', 'orchestrator.js', 'app.js']);
  const topLevel = (js: string) => [...js.matchAll(/^(?:async function|function|const|let|var|class)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!);
  const mine = topLevel(source('replicas.js'));
  assert.ok(mine.length > 10, 'the declarations were read');
  const others = [...topLevel(source('app.js')), ...topLevel(source('orchestrator.js'))];
  assert.ok(topLevel(source('orchestrator.js')).includes('orchestratorStrip'));
  assert.equal(
    mine.filter((name) => others.includes(name)),
    [],
  );
  assert.equal(
    topLevel(source('orchestrator.js')).filter((name) => topLevel(source('app.js')).includes(name)),
    [],
  );
});

test.run();
