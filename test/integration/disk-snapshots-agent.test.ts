// Snapshot sets through the real agent process (in a test network namespace, volumes on a real
// loop-backed btrfs pool, a busybox node on real LXC): the routes with their auth and their refusals
// (nothing changed), the `station disk` commands, and SIGKILL of the agent while the node is frozen
// for a set: after the kill the node is still frozen (so the kill surely landed mid-set); the next
// agent start thaws it, counts nothing of the half-made set and leaves none of its snapshots on the
// pool, and the next set succeeds.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { watch } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { nodeCgroup, parseCgroupEvents, type NodeCgroup } from '../../agent/disk/snapshots/freeze.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { type AgentHandle, startAgent } from '../helpers/agent-process.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { nodeAgentEnv } from '../helpers/node-agent.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const SUBNET = '198.18.64';
const STATION = new URL('../../scripts/station', import.meta.url).pathname;
const WRITER = 'i=0; while true; do i=$((i+1)); for v in a b c; do echo $i > /$v/n.t; mv /$v/n.t /$v/n; done; done';
const NODE = 'web';

let ns: Netns;
let stateDir: string;
let poolDir: string;
let agent: AgentHandle;
let env: Record<string, string>;

interface SetView {
  name: string;
  kind: string;
  frozen: boolean;
  freezeMs: number;
  volumes: { volume: string; referencedBytes: number }[];
}

const start = async () => {
  agent = await startAgent({ netns: ns.name, stateDir, env });
};
const json = async <T>(r: Response, status: number): Promise<T> => {
  const text = await r.text();
  assert.is(r.status, status, text);
  return JSON.parse(text) as T;
};
const errorCode = async (r: Response, status: number) => (await json<{ error: { code: string } }>(r, status)).error.code;
const sets = async () => (await json<{ snapshots: SetView[] }>(await agent.api(`/api/v1/nodes/${NODE}/snapshots`), 200)).snapshots;
const station = (...args: string[]) =>
  exec([STATION, ...args], { netns: ns.name, allowFailure: true, timeoutMs: 60_000, env: { STATION_URL: agent.baseUrl, STATION_STATE_DIR: stateDir } });
const volume = (v: string) => join(poolDir, 'volumes', NODE, v);
/** What is on the pool: the snapshot names of each volume. */
const onPool = async () => Promise.all(['a', 'b', 'c'].map((v) => readdir(join(poolDir, 'volumes', '.snapshots', NODE, v)).catch(() => [] as string[])));

const t = suite('snapshot sets through the agent');

t.before(async () => {
  ns = await createNetns('sna');
  stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-snapagent-`));
  onCleanup(`state ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  // the pool the agent would make for a state directory not on btrfs, made first so the cleanup knows it
  const pool = testPool(join(stateDir, 'storage'), 'pool', 512 * MiB);
  await pool.ensure();
  poolDir = pool.mountPoint;
  const lxcPath = join(stateDir, 'lxc');
  const lxc = netnsRunner(ns.name);
  onCleanup(`containers in ${lxcPath}`, async () => {
    await lxc(['lxc-stop', '-P', lxcPath, '-n', NODE, '-k'], { allowFailure: true, timeoutMs: 30_000 });
    await lxc(['lxc-destroy', '-P', lxcPath, '-n', NODE], { allowFailure: true, timeoutMs: 60_000 });
  });
  env = {
    ...nodeAgentEnv(lxcPath, `${SUBNET}.0/24`),
    STATION_STORAGE_DRIVER: 'btrfs',
    STATION_STORAGE_POOL_FILE: pool.file,
    STATION_STORAGE_POOL_SIZE_MB: '512',
    // the mesh runs (in no mesh): the disk room's store part reads its state
    STATION_DISABLE: 'wifi,discovery,indicator',
  };
  await start();
  const created = await agent.api('/api/v1/nodes', {
    method: 'POST',
    auth: true,
    json: {
      name: NODE,
      template: 'busybox',
      resources: { memoryMB: 64 },
      volumes: ['a', 'b', 'c'].map((v) => ({ name: v, path: `/${v}` })),
      modules: [{ name: 'writer', run: WRITER }],
      disk: { snapshotSeconds: 0 },
    },
  });
  assert.is(created.status, 201, await created.clone().text());
  await waitFor('the writer', () => readFile(join(volume('c'), 'n'), 'utf8').catch(() => false), 60_000);
});
t.after(async () => {
  await cleanupAll();
});

t('the routes: open list, token for everything else, sizes, a file, refusals that change nothing', async () => {
  assert.equal(await sets(), []);
  assert.is(await errorCode(await agent.api(`/api/v1/nodes/${NODE}/snapshots`, { method: 'POST' }), 401), 'UNAUTHORIZED');
  const set = await json<SetView>(await agent.api(`/api/v1/nodes/${NODE}/snapshots`, { method: 'POST', auth: true }), 201);
  assert.ok(set.frozen);
  assert.is(set.kind, 'manual');
  const listed = await sets();
  assert.equal(
    listed.map((s) => s.name),
    [set.name],
  );
  assert.equal(
    listed[0]!.volumes.map((v) => v.volume),
    ['a', 'b', 'c'],
  );

  const file = `/api/v1/nodes/${NODE}/snapshots/${set.name}/files?volume=a&path=${encodeURIComponent('/n')}`;
  assert.is(await errorCode(await agent.api(file), 401), 'UNAUTHORIZED', 'node data needs the token');
  const read = await agent.api(file, { auth: true });
  assert.is(read.status, 200);
  assert.match(await read.text(), /^\d+\n$/);
  const climbing = `/api/v1/nodes/${NODE}/snapshots/${set.name}/files?volume=a&path=${encodeURIComponent('../../../etc/passwd')}`;
  assert.is(await errorCode(await agent.api(climbing, { auth: true }), 400), 'INVALID_SNAPSHOT_PATH');

  assert.is(await errorCode(await agent.api('/api/v1/nodes/nobody/snapshots'), 404), 'NODE_NOT_FOUND');
  assert.is(await errorCode(await agent.api(`/api/v1/nodes/${NODE}/snapshots/not..a-set`, { method: 'DELETE', auth: true }), 400), 'INVALID_SNAPSHOT_NAME');
  assert.is(
    await errorCode(await agent.api(`/api/v1/nodes/${NODE}/snapshots/2020-01-01T00.00.00.000Z-auto`, { method: 'DELETE', auth: true }), 404),
    'SNAPSHOT_NOT_FOUND',
  );

  const before = await readFile(join(volume('b'), 'n'), 'utf8');
  const restore = await agent.api(`/api/v1/nodes/${NODE}/snapshots/${set.name}/restore`, { method: 'POST', auth: true, json: {} });
  assert.is(await errorCode(restore, 409), 'NODE_RUNNING');
  assert.ok(Number(await readFile(join(volume('b'), 'n'), 'utf8')) >= Number(before), 'not rolled back');
  const extra = await agent.api(`/api/v1/nodes/${NODE}/snapshots/${set.name}/restore`, { method: 'POST', auth: true, json: { volumes: ['a'], force: true } });
  assert.is(extra.status, 400);

  // the schedule's bounds: refused, the spec as it was
  const patched = await agent.api(`/api/v1/nodes/${NODE}`, { method: 'PATCH', auth: true, json: { disk: { snapshotSeconds: -1 } } });
  assert.is(patched.status, 400, await patched.clone().text());
  const node = await json<{ spec: { disk: { snapshotSeconds: number } } }>(await agent.api(`/api/v1/nodes/${NODE}`), 200);
  assert.is(node.spec.disk.snapshotSeconds, 0);

  const del = () => agent.api(`/api/v1/nodes/${NODE}/snapshots/${set.name}`, { method: 'DELETE', auth: true });
  assert.is((await json<SetView>(await del(), 200)).name, set.name);
  assert.is(await errorCode(await del(), 404), 'SNAPSHOT_NOT_FOUND');
  assert.equal(await sets(), []);
});

t('station disk snapshot, snapshots, cat and rollback', async () => {
  const made = await station('disk', 'snapshot', NODE, '--json');
  assert.is(made.exitCode, 0, made.stderr);
  const { name } = JSON.parse(made.stdout) as SetView;
  const list = await station('disk', 'snapshots', NODE);
  assert.is(list.exitCode, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${name.replace(/\./g, '\\.')} +manual +a .*, b .*, c `, 'm'));
  const listJson = JSON.parse((await station('disk', 'snapshots', NODE, '--json')).stdout) as { snapshots: SetView[] };
  assert.ok(listJson.snapshots.some((s) => s.name === name));

  const inSet = await readFile(join(poolDir, 'volumes', '.snapshots', NODE, 'c', name, 'n'), 'utf8');
  const cat = await station('disk', 'cat', `${NODE}/c/n`, '--snapshot', name);
  assert.is(cat.exitCode, 0, cat.stderr);
  assert.is(cat.stdout, inSet);
  const bad = await station('disk', 'cat', `${NODE}/c/../../x`, '--snapshot', name);
  assert.is(bad.exitCode, 1);
  assert.match(bad.stderr, /INVALID_SNAPSHOT_PATH/);

  const running = await station('disk', 'rollback', NODE, name);
  assert.is(running.exitCode, 1);
  assert.match(running.stderr, /NODE_RUNNING/);
  assert.is((await agent.api(`/api/v1/nodes/${NODE}/stop`, { method: 'POST', auth: true, json: {} })).status, 200);
  const rolled = await station('disk', 'rollback', NODE, name, '--volume', 'c');
  assert.is(rolled.exitCode, 0, rolled.stderr);
  assert.match(rolled.stdout, /rolled back c of web/);
  assert.is(await readFile(join(volume('c'), 'n'), 'utf8'), inSet);
  assert.is((await agent.api(`/api/v1/nodes/${NODE}/start`, { method: 'POST', auth: true, json: {} })).status, 200);
});

/** Watches the node's cgroup and SIGKILLs the agent the moment the kernel reports it frozen. */
function killWhenFrozen(cgroup: NodeCgroup): Promise<void> {
  return new Promise((resolve) => {
    const events = join(cgroup.dir, 'cgroup.events');
    const watcher = watch(events, () => {
      readFile(events, 'utf8').then((text) => {
        if (!parseCgroupEvents(text).frozen) return;
        agent.child.kill('SIGKILL');
        watcher.close();
        resolve();
      });
    });
  });
}

t('SIGKILL of the agent while the node is frozen for a set: thawed at the next start, nothing half-made counted, the next set succeeds', async () => {
  const pid = (await json<{ pid: number }>(await agent.api(`/api/v1/nodes/${NODE}`), 200)).pid;
  const cgroup = await nodeCgroup(pid);
  const counted = (await sets()).map((s) => s.name);
  let landed = false;
  for (let attempt = 0; attempt < 5 && !landed; attempt++) {
    const killed = killWhenFrozen(cgroup);
    void agent.api(`/api/v1/nodes/${NODE}/snapshots`, { method: 'POST', auth: true }).catch(() => undefined);
    await killed;
    await agent.stop('SIGKILL');
    // still frozen after the agent is gone: the kill landed between freeze and thaw
    landed = (await readFile(join(cgroup.dir, 'cgroup.freeze'), 'utf8')).trim() === '1';
    if (!landed) console.log(`  attempt ${attempt + 1}: the set finished before the kill; again`);
    await start();
  }
  assert.ok(landed, 'the kill never landed inside the frozen window');
  assert.not.ok(parseCgroupEvents(await readFile(join(cgroup.dir, 'cgroup.events'), 'utf8')).frozen, 'the new agent thawed the node');
  const after = await sets();
  assert.equal(
    after.map((s) => s.name),
    counted,
    'the half-made set is not counted',
  );
  for (const names of await onPool()) assert.equal(names.sort(), [...counted].sort(), 'none of its snapshots is left on the pool');
  const next = await json<SetView>(await agent.api(`/api/v1/nodes/${NODE}/snapshots`, { method: 'POST', auth: true }), 201);
  assert.ok(next.frozen);
  assert.equal(
    (await sets()).map((s) => s.name),
    [...counted, next.name],
  );
  assert.is((await agent.api(`/api/v1/nodes/${NODE}/exec`, { method: 'POST', auth: true, json: { command: ['true'] } })).status, 200);
});

t('a node deleted with its volumes takes its sets along: no records stay to reappear under a new node of that name', async () => {
  assert.ok((await sets()).length > 0);
  const records = join(stateDir, 'disk', 'snapshots', NODE);
  assert.ok((await readdir(records)).length > 0);
  const deleted = await agent.api(`/api/v1/nodes/${NODE}?volumes=delete`, { method: 'DELETE', auth: true });
  assert.is(deleted.status, 200, await deleted.clone().text());
  await waitFor(
    'the records gone',
    () =>
      readdir(records).then(
        () => false,
        () => true,
      ),
    30_000,
  );
  assert.equal(await onPool(), [[], [], []]);
});

t.run();
