// The captive setup page: shown on the station's setup hotspot; lists networks, joins one.
'use strict';
const $ = (id) => document.getElementById(id);
let chosen = null;

async function call(method, path, body) {
  const res = await fetch(`/api/v1${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || `HTTP ${res.status}`);
  return data;
}

function bars(signal) { return signal >= 75 ? '▂▄▆█' : signal >= 50 ? '▂▄▆' : signal >= 25 ? '▂▄' : '▂'; }

async function load(rescan) {
  const box = $('networks');
  try {
    const { networks } = await call('GET', `/wifi/networks${rescan ? '?rescan=yes' : ''}`);
    box.replaceChildren(...networks.map((n) => {
      const li = document.createElement('li');
      const name = document.createElement('b');
      name.textContent = `${n.ssid}${n.security ? ' 🔒' : ''}`;
      const right = document.createElement('span');
      right.className = 'latency';
      right.textContent = `${bars(n.signal)} ${n.signal}%`;
      li.append(name, right);
      li.tabIndex = 0;
      li.style.cursor = 'pointer';
      li.addEventListener('click', () => pick(n));
      return li;
    }));
    if (!networks.length) box.replaceChildren(Object.assign(document.createElement('li'), { className: 'muted', textContent: 'No networks found. Scan again.' }));
  } catch (e) {
    box.replaceChildren(Object.assign(document.createElement('li'), { className: 'error', textContent: e.message }));
  }
}

function pick(n) {
  chosen = n;
  $('join-title').textContent = `Join ${n.ssid}`;
  $('pw-label').hidden = !n.security;
  $('pw').required = !!n.security;
  $('join-error').textContent = '';
  $('join-dialog').showModal();
}

$('join-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = { ssid: chosen.ssid };
  if (chosen.security) body.password = $('pw').value;
  try {
    await call('POST', '/wifi/connect', body);
    $('join-dialog').close();
    $('result').textContent = `Connected to ${chosen.ssid}. The setup hotspot closes; find the station at its name .local on that network.`;
  } catch (e) { $('join-error').textContent = e.message; }
});
document.querySelectorAll('[data-close]').forEach((b) => b.addEventListener('click', () => b.closest('dialog').close()));
$('rescan').addEventListener('click', () => load(true));
load(false);
