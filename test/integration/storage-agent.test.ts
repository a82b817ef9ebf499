// A pool-backed station through the real agent process in a test namespace (startAgent's
// `storage: 'btrfs'`, the option other tests use for it): the status names the pool, a node's
// sizeMB becomes its volume's limit and shows in GET /nodes/:name, a bad size is a 400 with nothing
// made, a restarted agent finds the same pool mounted and the node's data on it, and once the test
// cleans up no loop device or mount of the pool is left.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { type AgentHandle, startAgent } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import type { Netns } from '../helpers/netns.ts';
import { nodeAgentEnv, nodeNetns } from '../helpers/node-agent.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
let ns: Netns;
let stateDir: string;
let lxcPath: string;
let agent: AgentHandle;
const web = `${RUN_PREFIX}sag`;

const start = () =>
  startAgent({
    netns: ns.name,
    stateDir,
    storage: 'btrfs',
    poolMb: 256,
    env: {
      ...nodeAgentEnv(lxcPath, '198.18.66.0/24'),
      // Infinite Disk's own parts are not what this test is about
      STATION_DISABLE: 'mesh,wifi,discovery,indicator,disk',
      STATION_RECONCILE_SECONDS: '3600',
    },
  });
const call = (path: string, method = 'GET', json?: unknown) => agent.api(`/api/v1${path}`, { method, auth: true, ...(json !== undefined ? { json } : {}) });

const t = suite('a pool-backed station');

t.before(async () => {
  ({ ns, stateDir, lxcPath } = await nodeNetns('sag', 'storage-agent'));
  agent = await start();
});
t.after(async () => {
  await cleanupAll();
});

t('the status names the pool; sizeMB is the volume limit shown with the node; a bad size is a 400', async () => {
  const status = (await (await call('/status')).json()) as { summaries: { nodes: { storageDriver: string; storage: string } } };
  assert.is(status.summaries.nodes.storageDriver, 'btrfs');
  assert.match(status.summaries.nodes.storage, new RegExp(`on the pool ${stateDir}/storage/pool\\.img \\(256 MiB\\)`));
  const bad = await call('/nodes', 'POST', { name: web, volumes: [{ name: 'data', path: '/data', sizeMB: 8 }] });
  assert.is(bad.status, 400, await bad.clone().text());
  assert.is((await call(`/nodes/${web}`)).status, 404, 'nothing made');
  const res = await call('/nodes', 'POST', {
    name: web,
    volumes: [{ name: 'data', path: '/data', sizeMB: 32 }],
    modules: [{ name: 'keep', run: 'echo kept > /data/note; exec sleep 100000' }],
  });
  assert.is(res.status, 201, await res.clone().text());
  const node = (await (await call(`/nodes/${web}`)).json()) as { volumeUsage: { name: string; quotaBytes: number | null }[] };
  assert.equal(
    node.volumeUsage.map((v) => [v.name, v.quotaBytes]),
    [['data', 32 * MiB]],
  );
  // GET /disk: the pool's size and the volume with its limit, as the page's Disk panel shows them
  const disk = (await (await call('/disk')).json()) as {
    driver: string;
    pool: { sizeBytes: number; freeBytes: number } | null;
    nodes: { name: string; volumes: { name: string; quotaBytes: number | null }[] }[];
  };
  assert.is(disk.driver, 'btrfs');
  assert.ok(disk.pool && disk.pool.sizeBytes > 128 * MiB && disk.pool.freeBytes > 0, JSON.stringify(disk.pool));
  assert.equal(
    disk.nodes.find((n) => n.name === web)?.volumes.map((v) => [v.name, v.quotaBytes]),
    [['data', 32 * MiB]],
  );
  await waitFor(
    'the note written',
    async () => (await readFile(join(stateDir, 'storage/pool/volumes', web, 'data/note'), 'utf8').catch(() => '')) === 'kept\n',
    60_000,
  );
});

t('a restarted agent finds the same pool mounted and the node with its data', async () => {
  const device = (await exec(['findmnt', '-n', '-o', 'SOURCE', join(stateDir, 'storage/pool')])).stdout.trim();
  await agent.stop();
  agent = await start();
  assert.is((await exec(['findmnt', '-n', '-o', 'SOURCE', join(stateDir, 'storage/pool')])).stdout.trim(), device, 'the same loop device, not mounted again');
  const read = await call(`/nodes/${web}/exec`, 'POST', { command: ['cat', '/data/note'] });
  assert.is(read.status, 200, await read.clone().text());
  assert.is(((await read.json()) as { stdout: string }).stdout, 'kept\n');
});

t('POST /disk/pool/grow grows the pool file and its file system; a smaller or bad size changes nothing', async () => {
  const before = (await (await call('/disk')).json()) as { pool: { sizeBytes: number } };
  for (const sizeMB of [100, 200, 'big']) {
    const refused = await call('/disk/pool/grow', 'POST', { sizeMB });
    assert.is(refused.status, 400, `${sizeMB}: ${await refused.clone().text()}`);
  }
  assert.is(((await (await call('/disk')).json()) as { pool: { sizeBytes: number } }).pool.sizeBytes, before.pool.sizeBytes, 'unchanged');
  const grown = await call('/disk/pool/grow', 'POST', { sizeMB: 320 });
  assert.is(grown.status, 200, await grown.clone().text());
  const after = (await grown.json()) as { sizeBytes: number };
  assert.ok(after.sizeBytes > before.pool.sizeBytes + 48 * MiB, `${before.pool.sizeBytes} -> ${after.sizeBytes}`);
  assert.is((await stat(join(stateDir, 'storage', 'pool.img'))).size, 320 * MiB, 'the pool file is 320 MiB');
});

t('after cleanup no loop device or mount of the pool is left', async () => {
  const file = join(stateDir, 'storage', 'pool.img');
  await cleanupAll();
  assert.is((await exec(['losetup', '-j', file])).stdout.trim(), '', 'no loop device');
  assert.not.match(await readFile('/proc/self/mounts', 'utf8'), stateDir, 'no mount');
});

t.run();
