// A busybox node on real LXC inside a test network namespace: a command module serves HTTP the
// station reaches at the node's address and is restarted when killed; exec, stats, logs; a
// volume keeps its data across stop/start; destroy leaves no container, veth, mount or cgroup.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { vethName } from '../../agent/nodes/lxc/names.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { curlIn, gone, lxcHarness, waitFor, type LxcHarness } from '../fixtures/lxc/harness.ts';

let h: LxcHarness;
let volume: string;
let name: string;

test.before(async () => {
  h = await lxcHarness('lxb', 41);
  volume = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-vol-`));
  onCleanup(`volume ${volume}`, () => exec(['rm', '-rf', volume]));
});
test.after(async () => {
  await cleanupAll();
});

test('a busybox node with an httpd module serves HTTP at its address', async () => {
  const build = h.build('web', 10, {
    memoryMB: 64,
    cpus: 0.5,
    processes: 40,
    env: { GREETING: 'hello from a node' },
    volumes: [{ name: 'data', source: volume, path: '/data' }],
    modules: [{ name: 'web', run: 'mkdir -p /www && echo "$GREETING" > /www/index.html && exec httpd -f -p 80 -h /www' }],
  });
  name = build.name;
  const t0 = Date.now();
  await h.driver.create(build);
  const created = Date.now() - t0;
  assert.equal((await h.driver.inspect(name))?.state, 'stopped');
  await h.driver.start(name);
  console.log(`busybox create ${created} ms, start ${Date.now() - t0 - created} ms`);
  const node = await h.driver.inspect(name);
  assert.equal(node?.state, 'running');
  assert.equal(node?.partial, false);
  assert.ok(node?.pid && node.pid > 1);
  const body = await waitFor('httpd in the node', () => curlIn(h.ns, `http://${h.address(10)}/`));
  assert.equal(body.trim(), 'hello from a node');
});

test('the module is restarted after being killed, and its output is in the node log', async () => {
  const pidOf = async () => (await h.driver.exec(name, ['pidof', 'httpd'])).stdout.trim();
  const before = await pidOf();
  assert.match(before, /^\d+$/);
  const killed = await h.driver.exec(name, ['kill', '-9', before]);
  assert.equal(killed.exitCode, 0);
  const after = await waitFor('a new httpd', async () => {
    const p = await pidOf();
    return p && p !== before ? p : null;
  });
  assert.not.equal(after, before);
  assert.equal((await waitFor('http again', () => curlIn(h.ns, `http://${h.address(10)}/`))).trim(), 'hello from a node');
  const logs = await h.driver.logs(name, { lines: 50 });
  assert.equal(logs.match(/module web starting/g)?.length, 2, logs);
});

test('exec runs with a clean environment and returns exit code and output', async () => {
  const env = await h.driver.exec(name, ['env']);
  assert.equal(env.exitCode, 0);
  assert.match(env.stdout, /^PATH=/m);
  assert.not.match(env.stdout, /LC_ALL|STATION_|npm_/);
  const fail = await h.driver.exec(name, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.equal(fail, { exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
  assert.equal((await h.driver.exec(name, ['cat'], { input: 'from stdin' })).stdout, 'from stdin');
  const host = await h.driver.exec(name, ['hostname']);
  assert.equal(host.stdout.trim(), name);
});

test('stats come from the node cgroups and carry its memory limit', async () => {
  const stats = await h.driver.stats(name);
  assert.ok(stats);
  assert.ok(stats.processes >= 2, `processes ${stats.processes}`);
  assert.ok(stats.memoryBytes > 0);
  assert.ok(stats.cpuSeconds > 0);
  assert.equal(stats.memoryLimitBytes, 64 * 1024 * 1024);
  // cpus: 0.5 is enforced by the CFS quota of the node's cgroup
  const node = await h.driver.inspect(name);
  const cpuPath = (await readFile(`/proc/${node!.pid}/cgroup`, 'utf8')).match(/^\d+:cpu(?:,cpuacct)?:(\S+)$/m)?.[1];
  if (cpuPath) assert.equal((await readFile(`/sys/fs/cgroup/cpu${cpuPath}/cpu.cfs_quota_us`, 'utf8')).trim(), '50000');
  else
    assert.match(
      await readFile(`/sys/fs/cgroup${(await readFile(`/proc/${node!.pid}/cgroup`, 'utf8')).match(/^0::(\S+)$/m)![1]}/cpu.max`, 'utf8'),
      /^50000 100000/,
    );
});

test('a fork bomb in the node stops at its process limit; the host and the node go on', async () => {
  const node = await h.driver.inspect(name);
  const pidsPath = (await readFile(`/proc/${node!.pid}/cgroup`, 'utf8')).match(/^\d+:pids:(\S+)$/m)?.[1];
  const cgroup = pidsPath
    ? `/sys/fs/cgroup/pids${pidsPath}`
    : `/sys/fs/cgroup${(await readFile(`/proc/${node!.pid}/cgroup`, 'utf8')).match(/^0::(\S+)$/m)![1]}`;
  assert.is((await readFile(`${cgroup}/pids.max`, 'utf8')).trim(), '40');
  const bomb = await h.driver.exec(name, ['sh', '-c', 'n=0; while [ $n -lt 200 ]; do sleep 600 </dev/null >/dev/null 2>&1 & n=$((n+1)); done; echo tried $n']);
  assert.match(bomb.stderr, /can't fork|Resource temporarily unavailable/, 'forks past the limit fail inside the node');
  const held = Number((await readFile(`${cgroup}/pids.current`, 'utf8')).trim());
  assert.ok(held <= 40, `${held} processes in the node, limit 40`);
  assert.is((await exec(['true'])).exitCode, 0, 'the host still starts processes');
  // end the sleeps from the host (the node has no room left to run kill itself)
  for (const pid of (await readFile(`${cgroup}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean)) {
    if ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === 'sleep') process.kill(Number(pid), 'SIGKILL');
  }
  await waitFor('the sleeps gone', async () => Number((await readFile(`${cgroup}/pids.current`, 'utf8')).trim()) < 10 || false);
  assert.is((await h.driver.exec(name, ['true'])).exitCode, 0, 'the node runs commands again');
});

test('stop, start and restart keep the volume data', async () => {
  const w = await h.driver.exec(name, ['sh', '-c', 'echo kept > /data/file']);
  assert.equal(w.exitCode, 0);
  assert.equal(await readFile(join(volume, 'file'), 'utf8'), 'kept\n');
  const t0 = Date.now();
  await h.driver.stop(name, { timeoutSeconds: 2 });
  console.log(`busybox stop ${Date.now() - t0} ms`);
  assert.equal((await h.driver.inspect(name))?.state, 'stopped');
  assert.equal(await h.driver.stats(name), null);
  await h.driver.start(name);
  assert.equal((await h.driver.exec(name, ['cat', '/data/file'])).stdout, 'kept\n');
  // restart = stop + start
  await h.driver.stop(name, { timeoutSeconds: 2 });
  await h.driver.start(name);
  assert.equal((await h.driver.exec(name, ['cat', '/data/file'])).stdout, 'kept\n');
  assert.equal((await waitFor('http after restart', () => curlIn(h.ns, `http://${h.address(10)}/`))).trim(), 'hello from a node');
});

test('destroy leaves no container, veth, mount or cgroup behind, and keeps the volume', async () => {
  const node = await h.driver.inspect(name);
  const veth = vethName(name);
  assert.match(await h.ns.run(['ip', 'link', 'show']), new RegExp(veth));
  await h.driver.destroy(name);
  assert.equal(await h.driver.inspect(name), null);
  assert.equal((await h.driver.list()).length, 0);
  assert.not.match(await h.ns.run(['ip', 'link', 'show']), new RegExp(veth));
  assert.ok(await gone(join(h.lxcPath, name)), 'container directory left');
  assert.not.match(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(h.lxcPath));
  if (node?.pid) assert.ok(await gone(`/proc/${node.pid}`), 'init still alive');
  for (const controller of ['memory', 'cpu', 'pids']) {
    assert.ok(await gone(`/sys/fs/cgroup/${controller}/lxc.payload.${name}`), `${controller} cgroup left`);
    assert.ok(await gone(`/sys/fs/cgroup/${controller}/lxc.monitor.${name}`), `${controller} monitor cgroup left`);
  }
  assert.equal(await readFile(join(volume, 'file'), 'utf8'), 'kept\n');
});

test.run();
