// Replicas on the status page (issue 14, GET /api/v1/replicas and the replicas.* events): on each
// card of a replicated node that runs here, where its Inactive copies are, their state and lag, and
// its lease; in the Replicas panel, the owner's lease store, whether failover is automatic, the
// Inactive copies this station holds and the promotions and fences seen since the page opened.
// A classic script loaded before app.js (no modules, no build step): the pure functions first (what
// is shown, from the API's JSON and the events; test/unit/api/page-replicas.test.ts runs them in
// node:vm), then the rendering, which uses app.js's h(), fill(), api(), reload() and state once both ran.
'use strict';

// agent/replicas/replicas-spec.ts REPLICA_DEFAULTS: a spec without maxLagSeconds has this one.
const REPLICA_DEFAULT_MAX_LAG = 120;
// What the panel's history keeps (copies sent and failed go to the activity list only: one per snapshot).
const REPLICA_HISTORY_TYPES = new Set([
  'replicas.promoted',
  'replicas.demoted',
  'replicas.fenced',
  'replicas.lease.taken',
  'replicas.active',
  'replicas.member.added',
  'replicas.member.promoted',
  'replicas.member.removed',
  'replicas.retired',
  'replicas.copy.dropped',
]);
const REPLICA_HISTORY_SHOWN = 8;
// Reads again while the lease store settles: it announces the members it adds, not its own member
// starting to serve (a one-member store on the authority a few seconds after the mesh was made).
const REPLICA_SETTLE_MS = 45_000;
const REPLICA_SETTLE_EVERY_MS = 3_000;
// An Inactive station hears no event when it pulls a copy (replicas.copy.sent is the Active's):
// while it holds copies, the panel reads their lag again this often.
const REPLICA_HELD_EVERY_MS = 15_000;

// ---------- what is shown (pure) ----------
function replicaLagText(s) {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '–';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

/** The lag now: the one read `readAt` (ms) only grows until the next copy (whose event brings a new reading). */
function replicaLagNow(lagSeconds, readAt, now) {
  return typeof lagSeconds === 'number' ? lagSeconds + Math.max(0, (now - readAt) / 1000) : null;
}

/** A node's maxLagSeconds from its spec as GET /nodes sends it. */
function replicaMaxLag(node) {
  const max = node?.spec?.replicas?.maxLagSeconds;
  return typeof max === 'number' ? max : REPLICA_DEFAULT_MAX_LAG;
}

/**
 * One Inactive copy as its Active sees it (ReplicaStatus): level ok (green: in sync and lag under
 * maxLagSeconds), degraded (amber: waiting, sending, behind) or error (red: failing, offline), a
 * short label, and why when it is not green.
 */
function replicaLook(replica, maxLagSeconds, lag) {
  if (replica.state === 'failing' || replica.state === 'offline')
    return { level: 'error', label: replica.state, why: replica.error || (replica.state === 'offline' ? 'the station is offline' : 'the last copy failed') };
  if (replica.sending) return { level: 'degraded', label: 'sending', why: 'a newer snapshot is on its way' };
  if (replica.state === 'waiting' || lag === null) return { level: 'degraded', label: 'waiting', why: replica.error || 'no snapshot copied yet' };
  if (lag >= maxLagSeconds)
    return { level: 'degraded', label: 'behind', why: `the newest snapshot it holds is ${replicaLagText(lag)} old (maxLagSeconds ${maxLagSeconds})` };
  return { level: 'ok', label: 'in sync', why: null };
}

/** The copies in sync of all, coloured like the disk's copies pill: all green, some amber, none red. */
function replicaCount(looks) {
  const inSync = looks.filter((l) => l.level === 'ok').length;
  const level = looks.length && inSync === looks.length ? 'ok' : inSync > 0 ? 'degraded' : 'error';
  return { inSync, total: looks.length, level };
}

/** A node's lease in a few words: held with its fencing token, held elsewhere, or why not. */
function replicaLease(lease) {
  if (!lease) return { level: 'off', text: 'lease unknown' };
  if (lease.held) return { level: 'ok', text: `lease held · token ${lease.token ?? '–'}` };
  if (lease.holder) return { level: 'error', text: `lease held by ${lease.holder}` };
  return { level: 'degraded', text: `lease not held${lease.reason ? `: ${lease.reason}` : ''}` };
}

/** This station's lease store member. */
function replicaStoreLook(store) {
  if (store.member === 'serving') return { level: 'ok', label: 'serving' };
  if (store.member === 'starting') return { level: 'degraded', label: 'starting' };
  return { level: 'off', label: 'not a member' };
}

/** A member as a line: its name and what it is (leader, voter or learner). */
function replicaMemberRole(member) {
  return member.leader ? 'leader' : member.learner ? 'learner' : 'voter';
}

/** Failover: automatic (green), or manual with the reason; amber when a node here asks for automatic. */
function replicaFailover(failover, wantsAutomatic) {
  if (failover.automatic) return { level: 'ok', label: 'automatic', reason: failover.reason };
  return { level: wantsAutomatic ? 'degraded' : 'off', label: 'manual', reason: failover.reason };
}

/** An Inactive copy held here (role inactive): where its Active runs, how old its newest snapshot is, what holds it back. */
function replicaHeldCopy(view, lag) {
  return {
    active: view.active ? `Active on ${view.active}` : 'nobody holds its lease',
    lag: lag === null ? 'no snapshot yet' : `newest snapshot ${replicaLagText(lag)} old`,
    held: view.held ? `would not promote itself: ${view.held}` : view.active ? "standing by: the Active's lease is held" : null,
  };
}

/** A replicas.* event in one line (the activity list and the panel's history), or '' for another event. */
function replicaEventText(e) {
  const d = e.data || {};
  switch (e.type) {
    case 'replicas.promoted': {
      const how = d.forced ? 'forced' : d.automatic ? 'automatic' : 'by hand';
      return `${d.node}: promoted here from ${d.from} (${how}, token ${d.token ?? '–'}, lag ${replicaLagText(d.lagSeconds)})`;
    }
    case 'replicas.demoted':
      return `${d.node}: demoted, ${d.active} runs the Active copy; what was written here alone is kept as ${d.diverged}`;
    case 'replicas.fenced':
      return `${d.node}: fenced (${d.why}); ${d.stopped ? 'stopped: another station may take over' : 'kept running: failover is manual'}`;
    case 'replicas.lease.taken':
      return `${d.node}: lease taken, token ${d.token}`;
    case 'replicas.active':
      return d.station ? `${d.node}: Active on ${d.station}` : `${d.node}: nobody holds its lease`;
    case 'replicas.member.added':
      return `lease store: ${d.name} added (a learner until it caught up)`;
    case 'replicas.member.promoted':
      return `lease store: ${d.name} votes now`;
    case 'replicas.member.removed':
      return `lease store: ${d.name} removed (${d.why})`;
    case 'replicas.copy.sent':
      return `${d.node}: ${d.station} got ${d.volume} ${d.snapshot}${d.whole ? ' (whole)' : ''} in ${replicaLagText(d.seconds)}`;
    case 'replicas.copy.failed':
      return `${d.node}: copying to ${d.station} failed: ${d.reason}`;
    case 'replicas.retired':
      return `${d.node}: deleted here; its copies were told to go${d.told?.length ? ` (${d.told.join(', ')} at once)` : ''}`;
    case 'replicas.copy.dropped':
      return `${d.node}: the copy held here was dropped (deleted on ${d.active})`;
    default:
      return '';
  }
}

/** An event for the panel's history ({type, at, text, level}), or null when it does not go there. */
function replicaHistoryEntry(e) {
  if (!REPLICA_HISTORY_TYPES.has(e.type)) return null;
  const level =
    e.type === 'replicas.fenced'
      ? 'error'
      : e.type === 'replicas.demoted' || e.type === 'replicas.member.removed'
        ? 'degraded'
        : e.type === 'replicas.promoted'
          ? 'ok'
          : 'off';
  return { type: e.type, at: e.at, text: replicaEventText(e), level };
}

// ---------- rendering (uses app.js) ----------
const replicaDot = (level) => h('i', { class: 'dot', 'data-level': level });

/** The node card's replicas line for a node that runs here, or null when it has no replicas. */
// biome-ignore lint/correctness/noUnusedVariables: app.js renderNodes() calls it (classic scripts share one scope)
function replicaStrip(raw) {
  const view = state.replicas?.nodes.find((v) => v.node === raw.name && v.role === 'active');
  const spec = raw.spec?.replicas;
  if (!view && !spec) return null;
  const el = h('div', { class: 'node-replicas', 'data-replicas': raw.name });
  fillReplicaStrip(el, raw, view);
  return el;
}

function fillReplicaStrip(el, raw, view) {
  if (!view) {
    const why = state.replicasError || 'no status yet';
    return fill(el, h('span', { class: 'label' }, 'Replicas'), h('span', { class: 'muted' }, `${raw.spec.replicas.stations.join(', ')} · ${why}`));
  }
  const max = replicaMaxLag(raw);
  const now = Date.now();
  const rows = view.replicas.map((r) => {
    const lag = replicaLagNow(r.lagSeconds, state.replicasAt, now);
    return { r, lag, look: replicaLook(r, max, lag) };
  });
  const count = replicaCount(rows.map((x) => x.look));
  const lease = replicaLease(view.lease);
  fill(
    el,
    h('span', { class: 'label' }, 'Replicas'),
    h(
      'span',
      { class: 'pill', 'data-state': count.level, title: `${count.inSync} of ${count.total} Inactive copies in sync within ${max} s` },
      `${count.inSync}/${count.total}`,
    ),
    h('span', { class: 'lease', 'data-lease': lease.level, title: view.lease?.reason || '' }, lease.text),
    h(
      'ul',
      { class: 'replica-list' },
      rows.map(({ r, lag, look }) =>
        h(
          'li',
          { 'data-station': r.station, 'data-replica-state': r.state, 'data-level': look.level, title: look.why || `in sync, lag under ${max} s` },
          replicaDot(look.level),
          h('b', null, r.station),
          ` ${look.label}`,
          lag === null ? null : h('span', { class: 'mono lag', title: 'lag: the writes it lacks' }, ` · ${replicaLagText(lag)}`),
          look.level === 'error' && r.error ? [' ', h('span', { class: 'error' }, r.error)] : null,
        ),
      ),
    ),
  );
}

/** Re-fills the cards' replicas lines in place (their lag grows between readings). */
// biome-ignore lint/correctness/noUnusedVariables: app.js calls it each second
function refreshReplicaStrips() {
  for (const el of document.querySelectorAll('.node-replicas')) {
    const raw = state.nodes?.find((n) => n.name === el.dataset.replicas);
    if (raw)
      fillReplicaStrip(
        el,
        raw,
        state.replicas?.nodes.find((v) => v.node === raw.name && v.role === 'active'),
      );
  }
}

function renderReplicas() {
  const box = $('replicas');
  if (state.replicasError) return fill(box, h('p', { class: 'muted' }, state.replicasError), replicaHistory());
  const rep = state.replicas;
  if (!rep) return;
  const store = rep.leaseStore;
  const storeLook = replicaStoreLook(store);
  const wantsAuto = (state.nodes || []).some((n) => n.spec?.replicas && (n.spec.replicas.failover ?? 'auto') === 'auto');
  const failover = replicaFailover(rep.failover, wantsAuto);
  const held = rep.nodes.filter((v) => v.role === 'inactive');
  const now = Date.now();
  fill(
    box,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Lease store'),
      h(
        'dd',
        { 'data-lease-store': store.member },
        h('span', { class: 'pill', 'data-state': storeLook.level }, storeLook.label),
        store.members.length ? ` ${store.voters} voting of ${store.members.length}` : null,
        store.reason ? h('div', { class: 'muted' }, store.reason) : null,
      ),
      h('dt', null, 'Failover'),
      h(
        'dd',
        { 'data-failover': failover.label },
        h('span', { class: 'pill', 'data-state': failover.level }, failover.label),
        failover.reason ? h('div', { class: 'muted' }, failover.reason) : null,
      ),
    ),
    store.members.length
      ? h(
          'ul',
          { class: 'peers members' },
          store.members.map((m) =>
            h(
              'li',
              { 'data-member': m.name, 'data-role': replicaMemberRole(m) },
              h('b', null, m.name),
              h('span', { class: m.leader ? 'role leader' : 'role' }, replicaMemberRole(m)),
            ),
          ),
        )
      : null,
    h('h3', null, 'Copies held here'),
    held.length
      ? h(
          'ul',
          { class: 'held-copies' },
          held.map((v) => {
            const line = replicaHeldCopy(v, replicaLagNow(v.lagSeconds, state.replicasAt, now));
            return h(
              'li',
              { 'data-copy': v.node },
              h('strong', null, v.node),
              h('span', { class: 'muted' }, ` ${line.active} · ${line.lag}`),
              line.held ? h('div', { class: v.held ? 'why held' : 'why' }, line.held) : null,
            );
          }),
        )
      : h('p', { class: 'muted' }, "No Inactive copies of the owner's other nodes here."),
    replicaHistory(),
  );
}

function replicaHistory() {
  const seen = state.replicaHistory;
  return [
    h('h3', null, 'History'),
    seen.length
      ? h(
          'ol',
          { class: 'replica-history' },
          seen
            .slice(0, REPLICA_HISTORY_SHOWN)
            .map((x) => h('li', { 'data-type': x.type }, replicaDot(x.level), h('span', null, x.text), h('time', { datetime: x.at }, ago(x.at)))),
        )
      : h('p', { class: 'muted' }, 'No promotions or fences since this page opened.'),
  ];
}

async function loadReplicas() {
  try {
    state.replicas = await api('GET', '/replicas');
    state.replicasAt = Date.now();
    state.replicasError = null;
  } catch (e) {
    state.replicas = null;
    state.replicasError =
      e.status === 404 && e.code === 'ROUTE_NOT_FOUND' ? 'This station does not serve the replicas API.' : `Replicas unavailable: ${e.message}`;
  }
  renderReplicas();
  renderNodes(); // a card picks up its replicas line
  const store = state.replicas?.leaseStore;
  const inMesh = !!state.mesh?.state && state.mesh.state !== 'none';
  if (store && store.member !== 'serving' && inMesh && Date.now() < state.replicasSettleUntil) readReplicasAgain(REPLICA_SETTLE_EVERY_MS);
  else if (state.replicas?.nodes.some((v) => v.role === 'inactive')) readReplicasAgain(REPLICA_HELD_EVERY_MS);
  else clearTimeout(readReplicasAgain.timer);
}

/** One more reading in `ms` (the last one asked for wins); none while the page is hidden. */
function readReplicasAgain(ms) {
  clearTimeout(readReplicasAgain.timer);
  readReplicasAgain.timer = setTimeout(() => (document.hidden ? readReplicasAgain(ms) : reload('replicas', loadReplicas)), ms);
}

/** A replicas.* event: into the history, then the report read again. */
// biome-ignore lint/correctness/noUnusedVariables: app.js onEvent() calls it
function onReplicasEvent(e) {
  const entry = replicaHistoryEntry(e);
  if (entry) {
    state.replicaHistory.unshift(entry);
    if (state.replicaHistory.length > 20) state.replicaHistory.pop();
  }
  if (e.type.startsWith('replicas.member.')) state.replicasSettleUntil = Date.now() + REPLICA_SETTLE_MS;
  reload('replicas', loadReplicas);
}
