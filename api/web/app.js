// The station's status page: reads the API, stays live through /api/v1/events (server-sent events,
// no polling), and lets a signed-in person create, start, stop and destroy nodes and make invites.
// Plain JS, no build step, no external assets. Text from the station is always set as text, never HTML.
'use strict';

const API = '/api/v1';
const TOKEN_KEY = 'station.token';
const $ = (id) => document.getElementById(id);
const state = {
  status: null,
  hardware: null,
  nodes: null,
  nodesError: null,
  mesh: null,
  peers: null,
  disk: null,
  diskError: null,
  meshError: null,
  // GET /replicas (replicas.js): the report, when it was read (lags grow from then), the events' history
  replicas: null,
  replicasError: null,
  replicasAt: 0,
  replicasSettleUntil: Date.now() + REPLICA_SETTLE_MS,
  replicaHistory: [],
  pairing: null,
  wifi: null,
  events: [],
  authed: false,
  stats: {},
  progress: {},
};

// ---------- small helpers ----------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
// replaceChildren() would print null as text: drop the empty slots first.
function fill(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}
const fmtBytes = (n) => {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${u[i]}`;
};
const fmtDuration = (s) => {
  if (typeof s !== 'number') return '–';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
};
const ago = (iso) => {
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  return s < 5 ? 'just now' : s < 60 ? `${Math.round(s)} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : new Date(iso).toLocaleTimeString();
};
const HEALTH_LABEL = { ok: 'Healthy', degraded: 'Degraded', starting: 'Starting' };
const pick = (...values) => values.find((v) => v !== undefined && v !== null);
const list = (body, key) => (Array.isArray(body) ? body : body && Array.isArray(body[key]) ? body[key] : []);

function toast(message, bad) {
  const t = $('toast');
  t.textContent = message;
  t.className = bad ? 'toast bad' : 'toast';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.hidden = true;
  }, 3500);
}

// ---------- API ----------
const token = () => localStorage.getItem(TOKEN_KEY) || '';

// Reads go without the token unless a read needs it (`withToken`): a stale or wrong bearer counts as
// a failed attempt, and too many lock this browser's address out for a minute.
async function api(method, path, body, { withToken = false } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['content-type'] = 'application/json';
  if ((method !== 'GET' || withToken) && token()) headers.authorization = `Bearer ${token()}`;
  const res = await fetch(API + path, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body || {}) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const err = new Error(data?.error?.message || `HTTP ${res.status}`);
    err.status = res.status;
    err.code = data?.error?.code;
    if (res.status === 401 && (method !== 'GET' || withToken)) setAuthed(false);
    throw err;
  }
  return data;
}

// ---------- rendering ----------
function renderHeader() {
  const s = state.status;
  if (!s) return;
  document.title = `${s.name} · Station`;
  $('name').textContent = s.name;
  const discovered = s.summaries?.discovery?.announced;
  $('sub').textContent = [
    `v${s.version}`,
    `up ${fmtDuration(s.uptimeSeconds + (Date.now() - state.statusAt) / 1000)}`,
    discovered ? `${discovered.hostname}` : `${s.name}.local`,
  ].join(' · ');
  const pill = $('health');
  pill.dataset.state = s.health;
  pill.textContent = HEALTH_LABEL[s.health] || s.health;
  $('foot-left').textContent = `${s.name} · Station ${s.version} · started ${new Date(s.startedAt).toLocaleString()}`;
}

function renderAlerts() {
  const box = $('alerts');
  fill(box);
  const s = state.status;
  if (!s) return;
  for (const sub of s.subsystems.filter((x) => x.state === 'degraded')) {
    box.append(
      h(
        'div',
        { class: 'alert degraded' },
        h('span', { class: 'icon' }, '!'),
        h('div', null, h('b', null, `${sub.name} degraded`), ' — ', sub.reason || 'no reason given'),
      ),
    );
  }
  const caps = state.hardware ? state.hardware.capabilities.filter((c) => !c.available) : [];
  if (caps.length) {
    box.append(
      h(
        'div',
        { class: 'alert unavailable' },
        h('span', { class: 'icon' }, 'i'),
        h(
          'div',
          null,
          h('b', null, `${caps.length} capabilit${caps.length === 1 ? 'y' : 'ies'} unavailable: `),
          caps.map((c) => c.id).join(', '),
          h('span', { class: 'muted' }, ' — see Hardware for why'),
        ),
      ),
    );
  }
  const wifi = s.summaries?.wifi;
  // The network picker (/setup) works only over the hotspot itself; from the LAN, say how to get there.
  if (wifi && wifi.mode === 'hotspot') {
    const how = state.wifi?.viaHotspot
      ? h('a', { href: '/setup' }, 'Pick a Wi-Fi network')
      : `To pick a Wi-Fi network, join “${state.wifi?.hotspotSsid || 'the setup hotspot'}” from a phone (its passphrase is shown on the station's screen).`;
    box.append(
      h('div', { class: 'alert info' }, h('span', { class: 'icon' }, '≈'), h('div', null, h('b', null, 'No network: '), 'the setup hotspot is open. ', how)),
    );
  }
}

// Only a signed-in person learns that a window is open (whoever hears of it first could take its
// one session); everyone else pairs from the sign-in dialog.
function renderPairing() {
  const p = state.pairing;
  const banner = $('pairing-banner');
  if (!state.authed || !p?.open) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  const left = Math.max(0, Math.ceil((new Date(p.closesAt).getTime() - Date.now()) / 1000));
  fill(
    banner,
    h('span', null, h('b', null, 'Pairing window open'), ` — ${left} s left. The next browser on this network to tap Pair signs in without the token.`),
  );
}

function renderStation() {
  const s = state.status;
  if (!s) return;
  const facts = $('station-facts');
  fill(
    facts,
    h('dt', null, 'Health'),
    h('dd', null, h('span', { class: 'pill', 'data-state': s.health }, HEALTH_LABEL[s.health] || s.health)),
    h('dt', null, 'Domain'),
    h('dd', { class: 'mono' }, `${s.name}.${s.domain}`),
    h('dt', null, 'Started'),
    h('dd', null, new Date(s.startedAt).toLocaleString()),
    wifiFacts(s.summaries?.wifi),
  );
  const mark = { ok: ['✓', 'ok-mark'], degraded: ['!', 'warn-mark'], starting: ['…', 'warn-mark'], off: ['–', 'off-mark'] };
  // Problems first, what is off last.
  const rank = { degraded: 0, starting: 1, ok: 2, off: 3 };
  const ordered = [...s.subsystems].sort((a, b) => (rank[a.state] ?? 1) - (rank[b.state] ?? 1));
  fill(
    $('subsystems'),
    ...ordered.map((x) => {
      const [m, cls] = mark[x.state] || ['?', 'off-mark'];
      return h(
        'li',
        { 'data-subsystem': x.name },
        h('span', { class: cls, title: x.state }, m),
        h('span', null, h('b', null, x.name), ' ', h('span', { class: 'muted' }, x.state)),
        x.reason ? h('span', { class: 'why' }, x.reason) : null,
      );
    }),
  );
}

function wifiFacts(wifi) {
  if (!wifi || wifi.mode === 'off') return null;
  const what = wifi.mode === 'client' ? `on ${wifi.connection || 'a network'}` : wifi.mode === 'hotspot' ? 'setup hotspot open' : wifi.mode;
  return [h('dt', null, 'Wi-Fi'), h('dd', null, `${what} `, state.wifi?.viaHotspot ? h('a', { href: '/setup' }, 'change') : null)];
}

function renderHardware() {
  const hw = state.hardware;
  if (!hw) return;
  const disk = hw.disks.reduce((a, d) => a + d.sizeBytes, 0);
  fill(
    $('hw-facts'),
    h('dt', null, 'Board'),
    h('dd', null, `${hw.board.manufacturer ? `${hw.board.manufacturer} ` : ''}${hw.board.model}${hw.board.virtual ? ' (virtual)' : ''}`),
    h('dt', null, 'CPU'),
    h('dd', null, `${hw.cpu.brand || hw.cpu.manufacturer} · ${hw.cpu.cores} cores`),
    h('dt', null, 'Memory'),
    h('dd', null, `${fmtBytes(hw.memory.availableBytes)} free of ${fmtBytes(hw.memory.totalBytes)}`),
    h('dt', null, 'Disk'),
    h('dd', null, disk ? fmtBytes(disk) : '–'),
    h('dt', null, 'System'),
    h('dd', null, `${hw.os.distro} ${hw.os.release} · ${hw.os.arch} · Linux ${hw.os.kernel}`),
    hw.temperatures.mainC !== null ? [h('dt', null, 'Temp'), h('dd', null, `${hw.temperatures.mainC} °C`)] : null,
  );
  const caps = [...hw.capabilities].sort((a, b) => Number(a.available) - Number(b.available) || a.id.localeCompare(b.id));
  fill(
    $('caps'),
    ...caps.map((c) =>
      h(
        'li',
        { 'data-capability': c.id, 'data-available': String(c.available) },
        h('span', { class: c.available ? 'ok-mark' : 'bad-mark' }, c.available ? '✓' : '✕'),
        h('b', null, c.id),
        h('span', { class: 'why' }, c.reason),
      ),
    ),
  );
}

// The last node.progress line of a node while it is built: until its build ends (node.created,
// node.error, node.deleted, node.state running), and once it has a container at most
// PROGRESS_FRESH_MS after the last line (a rebuild, e.g. onto a new subnet, may end without any of
// those events; a first build has no container until its last steps).
const PROGRESS_FRESH_MS = 10_000;
function buildLine(n) {
  const p = state.progress[n.name];
  if (!p) return undefined;
  if (n.state !== 'missing' && Date.now() - p.at > PROGRESS_FRESH_MS) {
    delete state.progress[n.name];
    return undefined;
  }
  return p.message;
}

// A node as the API sends it (api/schemas/nodes.ts): the list has no stats or traffic; those come
// from GET /nodes/NAME (loadStats) for running nodes.
function nodeView(n) {
  const sample = state.stats[n.name] || {};
  const stats = n.stats || sample.stats || {};
  const traffic = n.traffic || sample.traffic;
  const spec = n.spec || {};
  const memoryMB = spec.resources?.memoryMB;
  const memLimit = pick(stats.memoryLimitBytes, memoryMB ? memoryMB * 1048576 : undefined);
  return {
    name: n.name,
    state: n.state || 'unknown',
    address: n.address || '',
    template: spec.template,
    cpuPercent: sample.cpuPercent,
    cpuSeconds: stats.cpuSeconds,
    mem: stats.memoryBytes,
    memLimit,
    fqdn: n.fqdn,
    error: n.error,
    rx: traffic ? traffic.ingress.allowed.bytes : undefined,
    tx: traffic ? traffic.egress.allowed.bytes : undefined,
    progress: buildLine(n),
  };
}

function meter(label, value, fraction) {
  const bar = h('i');
  if (typeof fraction === 'number') bar.style.width = `${Math.min(100, Math.max(2, fraction * 100)).toFixed(1)}%`;
  return h('div', { class: 'meter' }, label, ' ', h('b', null, value), typeof fraction === 'number' ? h('div', { class: 'bar' }, bar) : null);
}

function renderNodes() {
  const box = $('nodes');
  if (state.nodesError) {
    fill(box, h('div', { class: 'empty' }, state.nodesError));
    $('node-count').textContent = '';
    return;
  }
  if (!state.nodes) return;
  $('node-count').textContent = state.nodes.length ? String(state.nodes.length) : '';
  if (!state.nodes.length) {
    fill(box, h('div', { class: 'empty' }, 'No nodes yet. ', state.authed ? 'Create one with “New node”.' : 'Sign in to create one.'));
    return;
  }
  const seen = new Set([...box.querySelectorAll('.node')].map((el) => el.dataset.node));
  fill(
    box,
    ...state.nodes.map((raw) => {
      const n = nodeView(raw);
      const running = n.state === 'running';
      const busy = ['starting', 'stopping', 'creating', 'deleting'].includes(n.state);
      const el = h(
        'article',
        { class: 'node', 'data-node': n.name, 'data-state': n.state },
        h(
          'div',
          { class: 'node-title' },
          h('strong', null, n.name),
          h('span', { class: 'pill', 'data-state': n.state }, n.progress && n.state === 'missing' ? 'building' : n.state),
          n.template ? h('span', { class: 'muted' }, n.template) : null,
        ),
        h(
          'div',
          { class: 'node-meta' },
          h('span', { class: 'mono' }, n.address || 'no address'),
          n.fqdn ? h('span', { class: 'mono' }, n.fqdn) : null,
          n.error ? h('span', { class: 'error' }, n.error) : null,
        ),
        // the last node.progress line while it is being built (template build, clone, packages)
        n.progress ? h('div', { class: 'node-progress mono', 'data-progress': '' }, n.progress) : null,
        // where its Inactive copies are, their lag, its lease (replicas.js)
        replicaStrip(raw),
        // its orchestrator cluster: its standing and the cluster's health (orchestrator.js)
        orchestratorStrip(raw),
        h(
          'div',
          { class: 'node-actions admin-only' },
          running
            ? h('button', { class: 'btn small', type: 'button', 'data-action': 'stop', disabled: busy, onclick: () => nodeAction(n.name, 'stop') }, 'Stop')
            : h('button', { class: 'btn small', type: 'button', 'data-action': 'start', disabled: busy, onclick: () => nodeAction(n.name, 'start') }, 'Start'),
          h('button', { class: 'btn small danger', type: 'button', 'data-action': 'destroy', disabled: busy, onclick: () => destroyNode(n.name) }, 'Destroy'),
        ),
        h(
          'div',
          { class: 'meters' },
          typeof n.cpuPercent === 'number'
            ? meter('CPU', `${n.cpuPercent.toFixed(1)} %`, n.cpuPercent / 100)
            : meter('CPU time', typeof n.cpuSeconds === 'number' ? `${n.cpuSeconds.toFixed(2)} s` : '–'),
          meter('Memory', n.mem !== undefined ? fmtBytes(n.mem) : '–', n.mem !== undefined && n.memLimit ? n.mem / n.memLimit : undefined),
          meter('Traffic', n.rx !== undefined || n.tx !== undefined ? `↓ ${fmtBytes(n.rx)} ↑ ${fmtBytes(n.tx)}` : '–'),
        ),
      );
      if (seen.has(n.name)) el.style.animation = 'none';
      return el;
    }),
  );
}

function renderMesh() {
  const box = $('mesh');
  if (state.meshError) {
    fill(box, h('p', { class: 'muted' }, state.meshError));
    $('invite-btn').hidden = true;
    return;
  }
  const m = state.mesh;
  if (!m) return;
  const peers = state.peers || [];
  const inMesh = m.state && m.state !== 'none';
  $('invite-btn').hidden = !inMesh;
  if (!inMesh) {
    fill(
      box,
      h(
        'p',
        { class: 'muted' },
        'This station is in no mesh yet. Start one (you become its owner and authority), or join another with an invite: station mesh join.',
      ),
      state.authed
        ? h(
            'form',
            { class: 'inline-form', id: 'mesh-create', onsubmit: createMesh },
            h('input', {
              name: 'owner',
              placeholder: 'owner name, e.g. alice',
              required: true,
              pattern: '[a-z0-9][a-z0-9-]{0,31}',
              autocomplete: 'off',
              'aria-label': 'owner',
            }),
            h('button', { class: 'btn primary', type: 'submit' }, 'Start a mesh'),
          )
        : null,
    );
    return;
  }
  const online = peers.filter((p) => p.online);
  const current = peers.filter((p) => !p.revoked);
  fill(
    box,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'State'),
      h('dd', null, h('span', { class: 'pill', 'data-state': m.state === 'up' ? 'ok' : m.state }, m.state)),
      h('dt', null, 'Owner'),
      h('dd', null, m.owner || '–'),
      h('dt', null, 'Address'),
      h('dd', { class: 'mono' }, m.address || '–'),
      m.nodeSubnet ? [h('dt', null, 'Node subnet'), h('dd', { class: 'mono' }, m.nodeSubnet)] : null,
      m.authority ? [h('dt', null, 'Authority'), h('dd', null, m.authority)] : null,
      h('dt', null, 'Peers'),
      h('dd', null, `${online.length} online of ${current.length}`),
    ),
    peers.length
      ? h(
          'ul',
          { class: 'peers' },
          peers.map((p) => {
            const seen = p.revoked ? 'revoked' : p.online ? 'online' : 'offline';
            return h(
              'li',
              { 'data-peer': p.name, 'data-peer-state': seen },
              h(
                'span',
                null,
                h('span', { class: 'pill', 'data-state': seen }, seen),
                ' ',
                h('b', null, p.name),
                p.lighthouse ? h('span', { class: 'muted' }, ' lighthouse') : null,
              ),
              h('span', { class: 'latency' }, typeof p.latencyMs === 'number' ? `${p.latencyMs.toFixed(p.latencyMs < 10 ? 1 : 0)} ms` : '–'),
            );
          }),
        )
      : h('p', { class: 'muted' }, 'No other stations yet: invite one.'),
  );
}

async function createMesh(ev) {
  ev.preventDefault();
  const owner = new FormData(ev.target).get('owner');
  try {
    await api('POST', '/mesh', { owner });
    toast(`Mesh of ${owner} started`);
  } catch (e) {
    toast(e.message, true);
  }
  reload('mesh', loadMeshAndReplicas);
}

function describe(e) {
  const d = e.data || {};
  if (e.type.startsWith('replicas.') && replicaEventText(e)) return replicaEventText(e);
  if (d.name && d.state) return `${d.name}: ${d.state}`;
  if (d.name && d.message) return `${d.name}: ${d.message}`;
  if (Array.isArray(d.peers)) return d.peers.join(', ') || 'none';
  if (d.subnet) return String(d.subnet);
  if (d.name) return String(d.name);
  if (d.mode) return `mode ${d.mode}`;
  if (d.unavailable) return `unavailable: ${d.unavailable.join(', ') || 'none'}`;
  if (e.type.startsWith('pairing.')) return d.open ? `open, ${d.remainingSeconds} s` : 'closed';
  return '';
}

function renderEvents() {
  const box = $('events');
  if (!state.events.length) return;
  fill(
    box,
    ...state.events
      .slice(0, 40)
      .map((e) =>
        h(
          'li',
          { 'data-type': e.type },
          h('span', { class: 'type' }, e.type),
          h('time', { datetime: e.at }, ago(e.at)),
          describe(e) ? h('span', { class: 'what' }, describe(e)) : null,
        ),
      ),
  );
}

// ---------- loading ----------
async function loadStatus() {
  state.status = await api('GET', '/status');
  state.statusAt = Date.now();
  renderHeader();
  renderAlerts();
  renderStation();
}
async function loadHardware() {
  try {
    state.hardware = await api('GET', '/hardware');
  } catch {
    /* 503 while detecting: the hardware.updated event brings it */
  }
  renderHardware();
  renderAlerts();
}
async function loadNodes() {
  try {
    state.nodes = list(await api('GET', '/nodes'), 'nodes');
    state.nodesError = null;
    loadStats();
  } catch (e) {
    state.nodesError =
      e.status === 404 && e.code === 'ROUTE_NOT_FOUND' ? 'This station does not serve nodes (no node API).' : `Nodes unavailable: ${e.message}`;
  }
  renderNodes();
}
// CPU and memory come from the node's cgroups and traffic from the Network Node's counters (GET
// /nodes/NAME), read when something about the nodes changes; CPU % is the CPU time used between
// two such readings.
async function loadStats() {
  const running = (state.nodes || []).filter((n) => n.state === 'running' && !n.stats);
  await Promise.all(
    running.map(async (n) => {
      try {
        const r = await api('GET', `/nodes/${encodeURIComponent(n.name)}`);
        const prev = state.stats[n.name];
        const at = Date.now();
        const cpuPercent =
          prev && r.stats && prev.stats && at - prev.at > 500
            ? Math.max(0, (100 * (r.stats.cpuSeconds - prev.stats.cpuSeconds)) / ((at - prev.at) / 1000))
            : undefined;
        state.stats[n.name] = { at, stats: r.stats || undefined, traffic: r.traffic || undefined, cpuPercent };
      } catch {
        /* stats are optional */
      }
    }),
  );
  if (running.length) renderNodes();
}

// Infinite Disk: the pool, this station's store for peers, and each node's copies at a glance
// (3/3 green, 2/3 amber with why, none red).
function copiesPill(c) {
  if (!c || c.state === 'off') return h('span', { class: 'pill', 'data-state': 'off', title: c?.reason || 'copies are not kept here' }, 'no copies');
  const level = c.have >= c.want ? 'ok' : c.have > 0 ? 'degraded' : 'error';
  return h('span', { class: 'pill', 'data-state': c.state === 'ok' ? 'ok' : level, title: c.reason || '' }, `${c.have}/${c.want}`);
}
function renderDisk() {
  const box = $('disk');
  if (state.diskError) return fill(box, h('p', { class: 'muted' }, state.diskError));
  const d = state.disk;
  if (!d) return;
  const pool = d.pool;
  fill(
    box,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Volumes'),
      h('dd', null, d.driver || 'off'),
      pool ? [h('dt', null, 'Pool'), h('dd', null, `${fmtBytes(pool.usedBytes)} used of ${fmtBytes(pool.sizeBytes)}, ${fmtBytes(pool.freeBytes)} free`)] : null,
      d.store
        ? [
            h('dt', null, 'Offered to peers'),
            h('dd', null, d.store.running ? `${fmtBytes(d.store.usedBytes)} held of ${fmtBytes(d.store.offerBytes)}` : d.store.reason || 'not serving'),
          ]
        : null,
    ),
    d.nodes.length
      ? h(
          'ul',
          { class: 'disk-nodes' },
          d.nodes.map((n) =>
            h(
              'li',
              { 'data-node': n.name },
              h('strong', null, n.name),
              // a node without volumes has nothing to copy
              n.volumes.length ? [' ', copiesPill(n.copies)] : null,
              n.copies?.reason ? h('span', { class: 'muted' }, ` ${n.copies.reason}`) : null,
              h(
                'div',
                { class: 'muted' },
                n.volumes.map((v) => `${v.name}: ${fmtBytes(v.usedBytes)}${v.quotaBytes ? ` of ${fmtBytes(v.quotaBytes)}` : ''}`).join(' · ') || 'no volumes',
                n.snapshots ? ` · ${n.snapshots.count} snapshots` : '',
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No node volumes yet.'),
  );
}

async function loadDisk() {
  try {
    state.disk = await api('GET', '/disk');
    state.diskError = null;
  } catch (e) {
    state.diskError = e.status === 404 && e.code === 'ROUTE_NOT_FOUND' ? 'This station does not serve the disk API.' : e.message;
  }
  renderDisk();
}

async function loadMesh() {
  try {
    const [mesh, peers] = await Promise.all([api('GET', '/mesh'), api('GET', '/mesh/peers').catch(() => [])]);
    state.mesh = mesh;
    state.peers = list(peers, 'peers');
    state.meshError = null;
  } catch (e) {
    state.meshError = e.status === 404 && e.code === 'ROUTE_NOT_FOUND' ? 'This station does not serve the mesh API.' : e.message;
  }
  renderMesh();
}
// The lease store follows the mesh: read after it (whether to read again while the store settles
// depends on the mesh's state).
const loadMeshAndReplicas = () => loadMesh().then(loadReplicas);
// The window's state is for token holders: asked only when signed in, with the token.
async function loadPairing() {
  if (!state.authed) {
    state.pairing = null;
    renderPairing();
    return;
  }
  try {
    state.pairing = await api('GET', '/pairing', undefined, { withToken: true });
  } catch {
    state.pairing = null;
  }
  renderPairing();
}
// Whether this browser came over the setup hotspot (only then is the network picker offered).
async function loadWifi() {
  const summary = state.status?.summaries?.wifi;
  if (!summary || summary.mode === 'off') {
    state.wifi = null;
    return;
  }
  try {
    state.wifi = await api('GET', '/wifi');
  } catch {
    state.wifi = null;
  }
  renderAlerts();
  renderStation();
}

// Coalesces bursts of events into one reload per kind.
const pending = new Map();
function reload(kind, fn) {
  if (pending.has(kind)) return;
  pending.set(
    kind,
    setTimeout(() => {
      pending.delete(kind);
      fn().catch(() => undefined);
    }, 120),
  );
}

function connectEvents() {
  const live = $('live');
  const source = new EventSource(`${API}/events`);
  source.onopen = () => {
    live.classList.add('on');
    live.lastChild.textContent = 'live';
    reload('status', loadStatus);
  };
  source.onerror = () => {
    live.classList.remove('on');
    live.lastChild.textContent = 'reconnecting';
  };
  source.onmessage = (m) => onEvent(JSON.parse(m.data));
  // Typed events (event: node.created, ...) do not reach onmessage: listen for each family.
  for (const type of EVENT_TYPES) source.addEventListener(type, (m) => onEvent(JSON.parse(m.data)));
}
// Every event of the station's event map (agent/event-map.ts); test/unit/agent/event-map.test.ts
// checks this list against it. pairing.* reach this page only when it sends the token (it does not).
const EVENT_TYPES = [
  'station.started',
  'hardware.updated',
  'node.created',
  'node.updated',
  'node.deleted',
  'node.error',
  'node.state',
  'node.progress',
  'node.subnet',
  'mesh.created',
  'mesh.joined',
  'mesh.left',
  'mesh.revoked',
  'mesh.tunnels.reset',
  'mesh.peers',
  'mesh.member.joined',
  'mesh.member.revoked',
  'mesh.member.readmitted',
  'replicas.member.added',
  'replicas.member.promoted',
  'replicas.member.removed',
  'replicas.lease.taken',
  'replicas.fenced',
  'replicas.copy.sent',
  'replicas.copy.failed',
  'replicas.active',
  'replicas.demoted',
  'replicas.promoted',
  'replicas.retired',
  'replicas.copy.dropped',
  'orchestrator.member',
  'orchestrator.cluster',
  'disk.snapshot.created',
  'disk.snapshot.failed',
  'disk.snapshot.deleted',
  'disk.store.started',
  'disk.store.stopped',
  'disk.store.granted',
  'disk.store.full',
  'disk.store.prune.requested',
  'disk.store.prune.opened',
  'disk.store.pruned',
  'disk.copy.placed',
  'disk.copy.started',
  'disk.copy.succeeded',
  'disk.copy.failed',
  'disk.copy.lost',
  'disk.copy.peer',
  'disk.copy.replaced',
  'disk.copy.checked',
  'disk.copy.restored',
  'disk.export.created',
  'disk.export.removed',
  'network.applied',
  'network.reset',
  'wifi.mode',
  'wifi.forgotten',
  'discovery.announced',
  'pairing.opened',
  'pairing.closed',
  'pairing.session',
  'pairing.revoked',
];

// Progress lines go on the node's card, not into the activity list (a template build sends hundreds).
const BUILD_ENDS = new Set(['node.created', 'node.error', 'node.deleted']);
function onEvent(e) {
  const d = e.data || {};
  if (e.type === 'node.progress') {
    onProgress(d);
    return;
  }
  state.events.unshift(e);
  if (state.events.length > 100) state.events.pop();
  renderEvents();
  const family = e.type.split('.')[0];
  if (family === 'node') {
    if (BUILD_ENDS.has(e.type) || (e.type === 'node.state' && d.state === 'running')) delete state.progress[d.name];
    if (state.nodes && e.type === 'node.state' && d.name && d.state) {
      const n = state.nodes.find((x) => x.name === d.name);
      if (n) {
        n.state = d.state;
        renderNodes();
      }
    }
    reload('nodes', loadNodes);
    reload('disk', loadDisk);
    reload('replicas', loadReplicas); // a replicated node made, started, stopped or gone
  } else if (family === 'disk') reload('disk', loadDisk);
  else if (family === 'replicas') onReplicasEvent(e);
  else if (family === 'orchestrator')
    reload('nodes', loadNodes); // a member's standing or its cluster's health
  else if (family === 'mesh') {
    // peers joined, revoked or readmitted; this station's own state; the lease store follows
    state.replicasSettleUntil = Date.now() + REPLICA_SETTLE_MS;
    reload('mesh', loadMeshAndReplicas);
  } else if (e.type === 'network.applied')
    reload('stats', loadStats); // the traffic counters were re-read
  else if (family === 'hardware') reload('hardware', loadHardware);
  else if (family === 'wifi') reload('wifi', () => loadStatus().then(loadWifi));
  else if (family === 'pairing') {
    state.pairing = e.data;
    renderPairing();
  }
  reload('status', loadStatus);
}

function onProgress(d) {
  if (!d.name) return;
  state.progress[d.name] = { message: d.message, at: Date.now() };
  // The node's record exists from the start of the build: a card not on screen yet comes with the list.
  if (state.nodes?.some((n) => n.name === d.name)) renderNodes();
  else reload('nodes', loadNodes);
}

// ---------- auth ----------
function setAuthed(yes) {
  state.authed = yes;
  document.body.classList.toggle('authed', yes);
  const btn = $('auth-btn');
  btn.textContent = yes ? 'Sign out' : 'Sign in';
  btn.dataset.authed = String(yes);
  if (!yes) localStorage.removeItem(TOKEN_KEY);
  renderNodes();
  renderPairing();
}

async function checkToken() {
  if (!token()) return setAuthed(false);
  try {
    await api('POST', '/session/check');
    setAuthed(true);
    loadPairing();
  } catch (e) {
    if (e.status === 401) setAuthed(false);
  }
}

async function signInWith(value) {
  localStorage.setItem(TOKEN_KEY, value);
  await api('POST', '/session/check');
  setAuthed(true);
  loadPairing();
}

async function pair() {
  const err = $('auth-error');
  err.textContent = '';
  try {
    const s = await api('POST', '/pairing/session');
    await signInWith(s.token);
    $('auth-dialog').close();
    toast('Paired: this browser can now manage the station');
  } catch (e) {
    // Each press of the link button pairs one browser: a second one in the same window finds it closed.
    err.textContent =
      e.code === 'PAIRING_CLOSED'
        ? 'No pairing window is open (each press of the link button pairs one browser). Press the link button on the station, then tap Pair.'
        : e.message;
    if (!$('auth-dialog').open) {
      $('auth-dialog').showModal();
    }
  }
}

// ---------- actions ----------
async function nodeAction(name, action) {
  try {
    await api('POST', `/nodes/${encodeURIComponent(name)}/${action}`);
    toast(`${name}: ${action} done`);
  } catch (e) {
    toast(`${name}: ${e.message}`, true);
  }
  reload('nodes', loadNodes);
}
async function destroyNode(name) {
  if (!confirm(`Destroy node ${name}? Its volumes are kept.`)) return;
  try {
    await api('DELETE', `/nodes/${encodeURIComponent(name)}`);
    toast(`${name} destroyed`);
  } catch (e) {
    toast(`${name}: ${e.message}`, true);
  }
  reload('nodes', loadNodes);
}

function wire() {
  document.querySelectorAll('[data-close]').forEach((b) => {
    b.addEventListener('click', () => b.closest('dialog').close());
  });
  $('auth-btn').addEventListener('click', () => {
    if (state.authed) {
      setAuthed(false);
      toast('Signed out');
      return;
    }
    $('auth-error').textContent = '';
    $('auth-dialog').showModal();
  });
  $('pair-btn').addEventListener('click', pair);
  $('auth-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    try {
      await signInWith(value);
      $('auth-dialog').close();
      $('token-input').value = '';
      toast('Signed in');
    } catch (e) {
      $('auth-error').textContent = e.status === 401 ? 'That token is not valid.' : e.message;
    }
  });
  $('new-node').addEventListener('click', () => {
    $('node-error').textContent = '';
    $('node-dialog').showModal();
  });
  $('node-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const spec = { name: String(f.get('name')).trim(), template: f.get('template') };
    const mem = Number(f.get('memoryMB'));
    if (mem) spec.resources = { memoryMB: mem };
    const run = String(f.get('run') || '').trim();
    if (run) spec.modules = [{ name: 'main', run }];
    const submit = ev.target.querySelector('[type=submit]');
    submit.disabled = true;
    try {
      await api('POST', '/nodes', spec);
      $('node-dialog').close();
      ev.target.reset();
      toast(`${spec.name} created`);
    } catch (e) {
      $('node-error').textContent = e.message;
    }
    submit.disabled = false;
    reload('nodes', loadNodes);
  });
  $('invite-btn').addEventListener('click', async () => {
    $('invite-error').textContent = '';
    $('invite-code').value = 'making an invite…';
    $('invite-dialog').showModal();
    try {
      const inv = await api('POST', '/mesh/invites', {});
      $('invite-code').value = typeof inv === 'string' ? inv : pick(inv?.code, inv?.invite, inv?.token, JSON.stringify(inv));
    } catch (e) {
      $('invite-code').value = '';
      $('invite-error').textContent = e.message;
    }
  });
  $('invite-copy').addEventListener('click', () => {
    $('invite-code').select();
    navigator.clipboard?.writeText($('invite-code').value).catch(() => undefined);
  });
  // Relative times and the pairing countdown tick locally; the data itself only changes on events.
  setInterval(() => {
    renderHeader();
    renderPairing();
    renderEvents();
    if (Object.keys(state.progress).length) renderNodes();
    // lags grow between readings; the history's times move
    if (state.replicas?.nodes.length || state.replicaHistory.length) {
      renderReplicas();
      refreshReplicaStrips();
    }
  }, 1000);
  // Pairing events go to token holders only, and EventSource sends no token: a signed-in page asks
  // for the window's state instead, while on screen (a press of the link button shows within 3 s).
  // A page that is not signed in never asks: it would only be refused.
  setInterval(() => {
    if (!document.hidden && state.authed) loadPairing();
  }, 3000);
}

wire();
setAuthed(!!token());
Promise.all([loadStatus().then(loadWifi), loadHardware(), loadNodes(), loadMeshAndReplicas(), loadDisk(), checkToken()]).finally(() => {
  document.body.dataset.loaded = 'true';
  // for scripts/bench/page.ts: when the station's data is on screen
  if (performance.mark) performance.mark('station-data-rendered');
});
connectEvents();
