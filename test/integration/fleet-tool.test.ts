// scripts/fleet (balena-sdk) against the balena API DOUBLE: the fleet listing shows each station's
// reported health, version and node counts; a staged rollout pins a fraction first, waits for
// their health, then the fleet; a canary reporting unhealthy rolls the wave back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { BalenaApiDouble, type DoubleDevice } from '../doubles/balena-api/api-double.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let api: BalenaApiDouble;
let devices: DoubleDevice[];

function fleet(args: string[], onLine?: (line: string) => void): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(`${ROOT}scripts/fleet`, args, {
      env: { ...process.env, BALENA_TOKEN: 'user-key-double', BALENA_API_URL: `${api.address}/` },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      for (const line of String(d).split('\n').filter(Boolean)) onLine?.(line);
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** What a station does when pinned: runs the release, its agent reports its health as a tag. */
function stationsFollowPins(health: (d: DoubleDevice) => string): void {
  for (const d of devices) {
    const app = api.applications[0]!;
    const target = d.is_pinned_on__release ?? app.should_be_running__release;
    if (target && d.is_running__release !== target) {
      d.is_running__release = target;
      const tag = api.tags.find((t) => t.device === d.id && t.tag_key === 'station.health');
      if (tag) tag.value = health(d);
    }
  }
}

test.before.each(async () => {
  api = new BalenaApiDouble(['user-key-double']);
  await api.start();
  api.applications.push({
    id: 1,
    slug: 'owner/stations',
    app_name: 'stations',
    should_be_running__release: 10,
    should_track_latest_release: true,
  });
  api.releases.push({
    id: 10,
    commit: 'aaaaaaa1111111111111111111111111',
    belongs_to__application: 1,
    status: 'success',
    raw_version: '0.1.0',
  });
  api.releases.push({
    id: 11,
    commit: 'bbbbbbb2222222222222222222222222',
    belongs_to__application: 1,
    status: 'success',
    raw_version: '0.2.0',
  });
  devices = [];
  for (let i = 0; i < 4; i++) {
    const d: DoubleDevice = {
      id: 50 + i,
      uuid: `${i}${'d'.repeat(31)}`,
      device_name: `station-${i}`,
      belongs_to__application: 1,
      is_pinned_on__release: null,
      is_online: true,
      is_running__release: 10,
    };
    devices.push(d);
    api.devices.push(d);
    for (const [k, v] of Object.entries({
      'station.health': 'ok',
      'station.version': '0.1.0',
      'station.nodes.running': String(i),
      'station.nodes.total': '3',
    })) {
      api.tags.push({ id: api.id(), device: d.id, tag_key: k, value: v });
    }
  }
});
test.after.each(async () => {
  await api.stop();
});

test('list shows every station with health, version, release and node counts', async () => {
  api.tags.find((t) => t.device === 52 && t.tag_key === 'station.health')!.value = 'degraded';
  const { code, out } = await fleet(['list', 'owner/stations']);
  assert.equal(code, 0, out);
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^NAME\s+UUID\s+ONLINE\s+RELEASE\s+PINNED\s+HEALTH\s+VERSION\s+NODES$/);
  assert.equal(lines.length, 5);
  assert.match(out, /station-2\s+2dddddd\s+yes\s+aaaaaaa\s+-\s+degraded\s+0\.1\.0\s+2\/3/);
  const json = JSON.parse((await fleet(['list', 'owner/stations', '--json'])).out);
  assert.equal(json.length, 4);
  assert.equal(json[1].nodesRunning, 1);
});

test('rollout: a quarter first, then the whole fleet once they report healthy', async () => {
  const { code, out } = await fleet(['rollout', 'owner/stations', 'bbbbbbb', '--fraction', '0.25', '--interval', '0.2', '--timeout', '20'], (line) => {
    if (line.startsWith('waiting')) stationsFollowPins(() => 'ok');
  });
  assert.equal(
    code,
    0,
    `${out}\n${api.requests
      .filter((r) => r.method !== 'GET' || !r.path.includes('device'))
      .map((r) => `${r.method} ${r.path}${r.query} ${JSON.stringify(r.body)}`)
      .join('\n')}`,
  );
  assert.match(out, /wave 1: pinning bbbbbbb to 1 station\(s\): station-0/);
  assert.match(out, /rollout complete/);
  assert.equal(api.applications[0]!.should_be_running__release, 11);
  assert.ok(
    devices.every((d) => d.is_pinned_on__release === null),
    'canaries follow the fleet again',
  );
});

test('rollout: an unhealthy canary rolls the wave back and the fleet stays on its release', async () => {
  const { code, out } = await fleet(['rollout', 'owner/stations', 'bbbbbbb', '--fraction', '0.5', '--interval', '0.2', '--timeout', '20'], (line) => {
    if (line.startsWith('waiting')) stationsFollowPins((d) => (d.id === 51 ? 'degraded' : 'ok'));
  });
  assert.equal(code, 1, out);
  assert.match(out, /wave 1 failed \(unhealthy: station-1 \(degraded\)\)/);
  assert.equal(api.applications[0]!.should_be_running__release, 10);
  assert.ok(devices.every((d) => d.is_pinned_on__release === null));
});

test('no token: a clear error, nothing called', async () => {
  const child = spawn(`${ROOT}scripts/fleet`, ['list', 'x'], { env: { ...process.env, BALENA_TOKEN: '' } });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 1);
  assert.match(err, /set BALENA_TOKEN/);
  assert.equal(api.requests.length, 0);
});

test.run();
