// Dynamic Alias over the real mesh: the testbed's three stations (real agents, real Nebula, each
// behind its own home NAT) form one owner's mesh; a node on one station claims an alias; every
// station's resolver answers its name and the alias (names are pulled over the mesh from the
// peers' GET /aliases); when the alias moves to a node on another station, all answer the new
// place within 5 s.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { exec } from '../../agent/exec.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { down, formMesh, stationApi, stationOf, up, type Testbed } from '../../scripts/testbed-lib/index.ts';

const t = suite<{ tb: Testbed }>('dynamic alias over the mesh testbed');
const STATIONS = ['s1', 's2', 's3'];

/** What the resolver of `station` answers for `name` (asked inside the station's namespace). */
async function lookup(tb: Testbed, station: string, name: string): Promise<string | null> {
  const r = await exec(['busybox', 'nslookup', name, '127.0.0.1'], { netns: stationOf(tb, station).netns, allowFailure: true, timeoutMs: 5000 });
  return /Name:\s+\S+\s+Address:\s+(\d+\.\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] ?? null;
}

async function untilAll(tb: Testbed, name: string, address: string | null, timeoutMs = 20_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const answers = await Promise.all(STATIONS.map((s) => lookup(tb, s, name)));
    if (answers.every((a) => a === address)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${name}: ${JSON.stringify(answers)} after ${timeoutMs} ms, wanted ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createNode(tb: Testbed, station: string, name: string, aliases: string[]): Promise<string> {
  const res = await stationApi<{ address: string }>(stationOf(tb, station), 'POST', '/nodes', { name, resources: { memoryMB: 32 }, network: { aliases } }, 120);
  assert.is(res.status, 201, JSON.stringify(res.body));
  return res.body.address.split('/')[0]!;
}

t.before(async (ctx) => {
  onCleanup(`testbed ${RUN_PREFIX}`, () => down(RUN_PREFIX));
  ctx.tb = await up({ prefix: RUN_PREFIX, stations: 3, publicStations: 1 });
  await formMesh(ctx.tb, 'alice');
});
t.after(async (ctx) => {
  // nodes first (their containers live in each station's lxcpath), then the testbed
  for (const s of STATIONS) {
    const list = await stationApi<{ name: string }[]>(stationOf(ctx.tb, s), 'GET', '/nodes').catch(() => ({ body: [] as { name: string }[] }));
    for (const n of Array.isArray(list.body) ? list.body : []) await stationApi(stationOf(ctx.tb, s), 'DELETE', `/nodes/${n.name}?volumes=delete`, undefined, 60).catch(() => undefined);
  }
  await cleanupAll();
});

t('a node name and its alias resolve on every station of the mesh', async ({ tb }) => {
  const web = await createNode(tb, 's1', 'web', ['www']);
  const ms = await untilAll(tb, 'www.alice.mesh.internal', web);
  process.stdout.write(`  alias known on all 3 stations ${ms} ms after the node was made\n`);
  await untilAll(tb, 'web.s1.mesh.internal', web, 5000);
  const listing = await stationApi<{ records: { name: string; station: string }[] }>(stationOf(tb, 's3'), 'GET', '/aliases');
  assert.ok(listing.body.records.some((r) => r.name === 'www.alice.mesh.internal' && r.station === 's1'));
});

t('the alias moves to a node on another station: every station answers the new place within 5 s', async ({ tb }) => {
  const gone = await stationApi(stationOf(tb, 's1'), 'DELETE', '/nodes/web?volumes=delete', undefined, 60);
  assert.is(gone.status, 200, JSON.stringify(gone.body));
  const t0 = Date.now();
  const blue = await createNode(tb, 's2', 'blue', ['www']);
  const made = Date.now() - t0;
  const ms = await untilAll(tb, 'www.alice.mesh.internal', blue);
  process.stdout.write(`  alias move seen by all 3 stations ${ms} ms after the new node was made (making it: ${made} ms)\n`);
  assert.ok(ms < 5000, `took ${ms} ms`);
  await untilAll(tb, 'web.s1.mesh.internal', null, 5000);
});

t.run();
