// Debian nodes from the cached template (built once per machine into the template cache): boot
// time to systemd "running", a package module installed offline from .debs fetched on the host,
// a systemd-supervised command module restarted when killed, and unknown packages refused.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readdir } from 'node:fs/promises';
import { cleanupAll } from '../helpers/cleanup.ts';
import { curlIn, lxcHarness, waitFor, type LxcHarness } from '../fixtures/lxc/harness.ts';

let h: LxcHarness;

test.before(async () => {
  h = await lxcHarness('lxd', 42);
  const t0 = Date.now();
  await h.driver.ensureTemplate('debian', (line) => console.log(`  ${line}`));
  console.log(`debian template ready in ${Date.now() - t0} ms`);
});
test.after(async () => {
  await cleanupAll();
});

const systemState = async (name: string) => (await h.driver.exec(name, ['systemctl', 'is-system-running'])).stdout.trim();

test('a debian node clones the cached template and boots systemd to running', async () => {
  const build = h.build('deb', 20, { template: 'debian' });
  const t0 = Date.now();
  await h.driver.create(build);
  const created = Date.now();
  await h.driver.start(build.name);
  const started = Date.now();
  const state = await waitFor(
    'systemd running',
    async () => {
      const s = await systemState(build.name);
      return s === 'running' || s === 'degraded' ? s : null;
    },
    30_000,
    50,
  );
  const booted = Date.now();
  console.log(
    `debian from cache: create ${created - t0} ms, lxc-start ${started - created} ms, systemd ${state} after ${booted - started} ms, total ${booted - t0} ` +
      `ms (goal <= 3000)`,
  );
  if (state === 'degraded') console.log((await h.driver.exec(build.name, ['systemctl', '--failed', '--no-legend'])).stdout);
  assert.equal(state, 'running');
  assert.equal((await h.driver.exec(build.name, ['hostname'])).stdout.trim(), build.name);
  assert.match((await h.driver.exec(build.name, ['ip', '-4', 'addr', 'show', 'eth0'])).stdout, new RegExp(`${h.address(20)}/24`));
  assert.match((await h.driver.exec(build.name, ['ip', 'route'])).stdout, new RegExp(`default via ${h.address(1)}`));
  assert.equal((await h.driver.exec(build.name, ['cat', '/etc/resolv.conf'])).stdout, `nameserver ${h.address(1)}\n`);
  // graceful: systemd shuts down on LXC's halt signal well before the timeout
  const t1 = Date.now();
  await h.driver.stop(build.name, { timeoutSeconds: 20 });
  const stopped = Date.now() - t1;
  console.log(`debian graceful stop ${stopped} ms`);
  assert.equal((await h.driver.inspect(build.name))?.state, 'stopped');
  assert.ok(stopped < 15_000, `graceful stop took ${stopped} ms`);
  assert.match(await h.driver.logs(build.name, { lines: 200 }), /(Reached target|System is (halting|powering down))/i);
  await h.driver.destroy(build.name);
});

test('a package module is installed offline before its command starts; systemd restarts it', async () => {
  const build = h.build('dpk', 21, {
    template: 'debian',
    env: { WHO: 'debian "node" $5 100%' },
    modules: [
      { name: 'tools', packages: ['busybox'] },
      { name: 'web', run: 'mkdir -p /srv && echo "hello from $WHO" > /srv/index.html && exec busybox httpd -f -p 80 -h /srv' },
    ],
  });
  const progress: string[] = [];
  await h.driver.create(build, (line) => progress.push(line));
  assert.ok(
    progress.some((l) => /installing \d+ packages/.test(l)),
    progress.join('\n'),
  );
  await h.driver.start(build.name);
  const body = await waitFor('httpd in the debian node', () => curlIn(h.ns, `http://${h.address(21)}/`), 30_000);
  assert.equal(body.trim(), 'hello from debian "node" $5 100%');
  assert.equal((await h.driver.exec(build.name, ['dpkg-query', '-W', '-f', '${Status}', 'busybox'])).stdout, 'install ok installed');
  const pid = async () => (await h.driver.exec(build.name, ['systemctl', 'show', '-p', 'MainPID', '--value', 'station-module-web.service'])).stdout.trim();
  const before = await pid();
  assert.match(before, /^[1-9]\d*$/);
  await h.driver.exec(build.name, ['kill', '-9', before]);
  await waitFor(
    'the module restarted',
    async () => {
      const p = await pid();
      return p !== before && p !== '0' ? p : null;
    },
    15_000,
  );
  assert.equal((await waitFor('http again', () => curlIn(h.ns, `http://${h.address(21)}/`), 15_000)).trim(), 'hello from debian "node" $5 100%');
  const logs = await h.driver.logs(build.name, { lines: 100 });
  assert.ok((logs.match(/module web starting/g)?.length ?? 0) >= 2, logs);
  await h.driver.destroy(build.name);
});

test('an unknown package is refused with a clear error and nothing is left', async () => {
  const build = h.build('dbad', 22, { template: 'debian', modules: [{ name: 'x', packages: ['no-such-package-station'] }] });
  try {
    await h.driver.create(build);
    assert.unreachable('create should fail');
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'UNKNOWN_PACKAGE');
    assert.match((error as Error).message, /no-such-package-station/);
  }
  assert.equal(await h.driver.inspect(build.name), null);
  assert.not.ok((await readdir(h.lxcPath)).includes(build.name));
});

test.run();
