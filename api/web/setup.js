// The captive setup page: shown on the station's setup hotspot; lists networks, joins one.
// The picker is offered only when GET /wifi says this browser came over the hotspot (viaHotspot):
// the home Wi-Fi password typed here must cross the hotspot's WPA2 link, and a join without the
// token is accepted only there. Anywhere else (the LAN, or once the hotspot has closed) the page says
// so instead of asking for a password.
'use strict';
const $ = (id) => document.getElementById(id);
let chosen = null;

async function call(method, path, body) {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.error?.message || `HTTP ${res.status}`);
  return data;
}

/** True when this browser reaches the station over the open setup hotspot; otherwise explains why not. */
async function overHotspot() {
  let wifi = null;
  try {
    wifi = await call('GET', '/wifi');
  } catch {
    /* said below */
  }
  if (wifi?.viaHotspot) {
    $('elsewhere').hidden = true;
    $('picker').hidden = false;
    return true;
  }
  $('picker').hidden = true;
  $('elsewhere').hidden = false;
  $('sub').textContent = 'Only over the setup hotspot';
  $('elsewhere-how').textContent = !wifi
    ? 'The station did not answer: try again in a moment.'
    : wifi.mode === 'hotspot'
      ? `Join the Wi-Fi “${wifi.hotspotSsid}” (its passphrase is shown on the station's screen), then open this page again.`
      : `The setup hotspot is closed${wifi.mode === 'client' && wifi.connection ? `: the station is on ${wifi.connection}` : ''}. To change its network ` +
        `from here, sign in on the status page.`;
  return false;
}

function bars(signal) {
  const meter = document.createElement('span');
  meter.className = 'signal';
  meter.title = `${signal}%`;
  const lit = signal >= 75 ? 4 : signal >= 50 ? 3 : signal >= 25 ? 2 : 1;
  for (let i = 1; i <= 4; i++) meter.append(Object.assign(document.createElement('i'), { className: i <= lit ? 'on' : '' }));
  return meter;
}

async function load(rescan) {
  if (!(await overHotspot())) return;
  const box = $('networks');
  try {
    const { networks } = await call('GET', `/wifi/networks${rescan ? '?rescan=yes' : ''}`);
    box.replaceChildren(
      ...networks.map((n) => {
        const li = document.createElement('li');
        li.className = 'network';
        const left = document.createElement('span');
        const name = document.createElement('b');
        name.textContent = n.ssid;
        const sub = document.createElement('small');
        sub.textContent = `${n.security ? `secured (${n.security})` : 'open'}${n.channel ? ` · channel ${n.channel}` : ''}`;
        left.append(name, sub);
        li.append(left, bars(n.signal));
        li.tabIndex = 0;
        li.addEventListener('click', () => pick(n));
        li.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') pick(n);
        });
        return li;
      }),
    );
    if (!networks.length)
      box.replaceChildren(Object.assign(document.createElement('li'), { className: 'muted', textContent: 'No networks found. Scan again.' }));
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
    $('pw').value = '';
    $('result').textContent = `Connected to ${chosen.ssid}. The setup hotspot closes; find the station at its name .local on that network.`;
  } catch (e) {
    $('join-error').textContent = e.message;
  }
});
document.querySelectorAll('[data-close]').forEach((b) => {
  b.addEventListener('click', () => b.closest('dialog').close());
});
$('rescan').addEventListener('click', () => load(true));
load(false);
