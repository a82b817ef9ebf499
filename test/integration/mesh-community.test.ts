// A community: two owners, each with their own authority, whose stations trust each other's CA.
// Nebula's firewall (rules bound to the CA fingerprint) decides what the other owner's stations may
// reach: by default the station API (public reads only) and ping; more when the owner allows it.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { exec } from '../../agent/exec.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { createMesh, createMeshApartFrom, join, meshPing, stationApi, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const community = suite<{ tb: Testbed; addr: Record<string, string> }>('mesh community');

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const httpFrom = async (tb: Testbed, from: string, url: string, extra: string[] = []): Promise<string> =>
  (
    await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', ...extra, url], {
      netns: stationOf(tb, from).netns,
      allowFailure: true,
    })
  ).stdout;

community.before(async (ctx) => {
  // alice's authority a1 and bob's authority b1 have forwarded ports; alice's a2 is behind NAT.
  ctx.tb = await upForThisRun({ stations: 3, publicStations: 2, names: ['a1', 'b1', 'a2'] });
  const alice = await createMesh(ctx.tb, 'a1', 'alice');
  ctx.addr = { a1: alice };
  ctx.addr.b1 = await createMeshApartFrom(ctx.tb, 'b1', 'bob', alice);
  ctx.addr.a2 = await join(ctx.tb, 'a1', 'a2');
  // A listener on a1 that only alice's stations may reach by default.
  const a1 = stationOf(ctx.tb, 'a1');
  const server = spawn('ip', ['netns', 'exec', a1.netns, 'python3', '-m', 'http.server', '9000', '--bind', '0.0.0.0'], { stdio: 'ignore' });
  onCleanup(`http server pid ${server.pid}`, () => server.kill('SIGKILL'));
  await waitFor('the listener', async () => (await httpFrom(ctx.tb, 'a1', 'http://127.0.0.1:9000/')) === '200', 10_000);
});
community.after(cleanupAll);

community("two owners' meshes are separate until they trust each other", async (ctx) => {
  assert.not.ok(await meshPing(stationOf(ctx.tb, 'b1'), ctx.addr.a1!, 1));
  const mine = (await stationApi(stationOf(ctx.tb, 'a1'), 'GET', '/mesh')).body;
  const theirs = (await stationApi(stationOf(ctx.tb, 'b1'), 'GET', '/mesh')).body;
  assert.is.not(mine.caFingerprint, theirs.caFingerprint);
  assert.is.not(mine.address.split('.').slice(0, 2).join('.'), theirs.address.split('.').slice(0, 2).join('.'), 'each owner allocates from its own block');
  const trustBob = await stationApi(stationOf(ctx.tb, 'a1'), 'POST', '/mesh/trust', {
    owner: 'bob',
    ca: theirs.caPem,
    lighthouses: theirs.lighthouses,
  });
  assert.is(trustBob.status, 200, JSON.stringify(trustBob.body));
  assert.equal(trustBob.body.trusted, [{ owner: 'bob', fingerprint: theirs.caFingerprint }]);
  const trustAlice = await stationApi(stationOf(ctx.tb, 'b1'), 'POST', '/mesh/trust', {
    owner: 'alice',
    ca: mine.caPem,
    lighthouses: mine.lighthouses,
  });
  assert.is(trustAlice.status, 200, JSON.stringify(trustAlice.body));
  await waitFor('b1 -> a1 over the mesh', () => meshPing(stationOf(ctx.tb, 'b1'), ctx.addr.a1!, 1), 20_000);
  await waitFor('a1 -> b1 over the mesh', () => meshPing(stationOf(ctx.tb, 'a1'), ctx.addr.b1!, 1), 20_000);
});

community("by default another owner's station reaches only the station API, and only its public reads", async (ctx) => {
  assert.is(await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:8088/api/v1/status`), '200', 'public read');
  assert.is(
    await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:8088/api/v1/mesh/invites`, ['-X', 'POST', '-H', 'content-type: application/json', '-d', '{}']),
    '401',
    'no mutation without the token',
  );
  assert.is(await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:8088/api/v1/mesh/directory`), '403', "not a member of alice's mesh");
  assert.is(await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:9000/`), '000', 'other ports are closed to bob');
  assert.is(await httpFrom(ctx.tb, 'a2', `http://${ctx.addr.a1}:9000/`), '200', "alice's own stations reach everything");
});

community('the owner widens what the other owner may reach; bad CAs are refused', async (ctx) => {
  const a1 = stationOf(ctx.tb, 'a1');
  const theirs = (await stationApi(stationOf(ctx.tb, 'b1'), 'GET', '/mesh')).body;
  const r = await stationApi(a1, 'POST', '/mesh/trust', {
    owner: 'bob',
    ca: theirs.caPem,
    lighthouses: theirs.lighthouses,
    allow: [{ port: '9000', proto: 'tcp' }],
  });
  assert.is(r.status, 200);
  await waitFor('bob reaches port 9000 once allowed', async () => (await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:9000/`)) === '200', 15_000);
  const own = await stationApi(a1, 'POST', '/mesh/trust', { owner: 'alice', ca: (await stationApi(a1, 'GET', '/mesh')).body.caPem });
  assert.is(own.status, 409);
  assert.is(own.body.error.code, 'MESH_CA_OWN');
  const junk = await stationApi(a1, 'POST', '/mesh/trust', {
    owner: 'eve',
    ca: '-----BEGIN NEBULA CERTIFICATE-----\nAAAA\n-----END NEBULA CERTIFICATE-----\n',
  });
  assert.is(junk.status, 400);
  assert.is(junk.body.error.code, 'MESH_CA_INVALID');
  assert.is((await stationApi(a1, 'GET', '/mesh')).body.trusted.length, 1, 'nothing changed');
});

community.run();
