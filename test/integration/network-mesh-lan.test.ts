// A station's mesh address is reached through the mesh only. Linux is a weak host: it answers for a
// local address on any interface, so a host on the station's LAN that routes the mesh address via
// the station's LAN address would reach what listens there (the copy store, the API, and soon
// etcd, which has no authentication of its own) around Nebula's certificates and firewall.
// The station's table (agent/network/compile-nft.ts) drops, in its input hook, what is addressed
// to its mesh address and did not come in on the Nebula tun or lo.
// Real agents and real Nebula in the testbed's namespaces: s1 and s2 of alice's mesh, each behind
// its home router; s2's home router is the LAN host (it adds a route to s2's mesh address via s2's
// LAN address, in its own namespace). What listens on s2's mesh address: its copy store (rclone,
// port 8713), its API (every address, port 8088), ping.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { exec } from '../../agent/exec.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';
import { formMesh, meshPing, planTestbed, stationApi, stationExec, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { API_PORT } from '../../scripts/testbed-lib/topology.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

interface Ctx {
  tb: Testbed;
  addr: Record<string, string>;
  /** s2's home router: a host on s2's LAN */
  lanHost: string;
  /** s2's LAN address */
  lanIp: string;
  tunDev: string;
}
const t = suite<Ctx>("a station's mesh address, only through the mesh");
const STORE_PORT = 8713;

/** The HTTP status a GET gets from inside namespace `netns`; '000' when no connection was made within 3 s. */
async function httpStatus(netns: string, url: string): Promise<string> {
  const r = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '3', '--max-time', '5', url], {
    netns,
    allowFailure: true,
    timeoutMs: 15_000,
  });
  return r.stdout.trim() || '000';
}

const ping = async (netns: string, address: string): Promise<boolean> =>
  (await exec(['ping', '-c', '1', '-W', '2', '-n', address], { netns, allowFailure: true, timeoutMs: 10_000 })).exitCode === 0;

async function nftList(ctx: Ctx, what: string[]): Promise<string> {
  return (await stationExec(stationOf(ctx.tb, 's2'), ['nft', 'list', ...what], { allowFailure: true })).stdout;
}

const dropped = async (ctx: Ctx): Promise<number> =>
  Number(/packets (\d+)/.exec(await nftList(ctx, ['counter', 'inet', 'station', 'mesh.bypass.drop']))?.[1] ?? 0);

t.before(async (ctx) => {
  ctx.tb = await upForThisRun({ stations: 2 });
  const plan = planTestbed({ prefix: RUN_PREFIX, stations: 2 }).stations[1]!;
  ctx.lanHost = plan.router;
  ctx.lanIp = plan.lanIp;
  ctx.addr = await formMesh(ctx.tb, 'alice');
  const s2 = stationOf(ctx.tb, 's2');
  ctx.tunDev = (await stationApi<{ nebula: { tunDev: string } }>(s2, 'GET', '/mesh')).body.nebula.tunDev;
  await waitFor('s1 reaches s2 over the mesh', () => meshPing(stationOf(ctx.tb, 's1'), ctx.addr.s2!, 1), 30_000);
  await waitFor(
    "s2's copy store serving on its mesh address",
    async () => (await httpStatus(s2.netns, `http://${ctx.addr.s2}:${STORE_PORT}/`)) !== '000',
    30_000,
    500,
  );
  // the table has followed the mesh (its subnet is in the mesh set)
  await waitFor('s2 table follows the mesh', async () => (await nftList(ctx, ['set', 'inet', 'station', 'mesh'])).includes('100.64.0.0/10'), 15_000);
  // The LAN host routes s2's mesh address via s2's LAN address (in the router's namespace, which the testbed removes).
  await exec(['ip', '-n', ctx.lanHost, 'route', 'add', `${ctx.addr.s2}/32`, 'via', ctx.lanIp]);
  onCleanup(`route to ${ctx.addr.s2} in ${ctx.lanHost}`, () =>
    exec(['ip', '-n', ctx.lanHost, 'route', 'del', `${ctx.addr.s2}/32`, 'via', ctx.lanIp], { allowFailure: true }),
  );
});
t.after(cleanupAll);

t("over the mesh, another of the owner's stations reaches what listens on the mesh address; so does the station itself", async (ctx) => {
  const s1 = stationOf(ctx.tb, 's1').netns;
  const s2 = stationOf(ctx.tb, 's2').netns;
  const store = `http://${ctx.addr.s2}:${STORE_PORT}/`;
  const api = `http://${ctx.addr.s2}:${API_PORT}/api/v1/health`;
  // what must answer may take a few tries on a loaded machine (one try is 5 s); what must not answer is tried once below
  const answers = (from: string, url: string, want: (code: string) => boolean) => waitFor(url, async () => want(await httpStatus(from, url)), 30_000, 500);
  await answers(s1, store, (code) => code !== '000'); // s1 -> s2's copy store over Nebula
  await answers(s1, api, (code) => code === '200'); // s1 -> s2's API on its mesh address over Nebula
  assert.ok(await waitFor('s1 pings s2 over Nebula', () => ping(s1, ctx.addr.s2!), 30_000));
  // on the station itself the packets go through lo
  await answers(s2, store, (code) => code !== '000');
  await answers(s2, api, (code) => code === '200');
});

t("a LAN host routing the mesh address via the station's LAN address reaches nothing there, and it is counted", async (ctx) => {
  // the control: the LAN host reaches the station, and its route to the mesh address is in place
  assert.is(await httpStatus(ctx.lanHost, `http://${ctx.lanIp}:${API_PORT}/api/v1/health`), '200', "the LAN host -> s2's API on its LAN address");
  const route = (await exec(['ip', '-n', ctx.lanHost, 'route', 'get', ctx.addr.s2!])).stdout;
  assert.match(route, `via ${ctx.lanIp}`);
  const before = await dropped(ctx);
  const [store, api, pinged] = await Promise.all([
    httpStatus(ctx.lanHost, `http://${ctx.addr.s2}:${STORE_PORT}/`),
    httpStatus(ctx.lanHost, `http://${ctx.addr.s2}:${API_PORT}/api/v1/health`),
    ping(ctx.lanHost, ctx.addr.s2!),
  ]);
  assert.equal(
    { store, api, pinged },
    { store: '000', api: '000', pinged: false },
    "the LAN host -> s2's mesh address: the copy store, the API and ping all unanswered",
  );
  const after = await dropped(ctx);
  assert.ok(after > before, `mesh.bypass.drop counted them (${before} -> ${after})`);
  // the rule, as listed by nft in s2's namespace
  const rule = (await nftList(ctx, ['chain', 'inet', 'station', 'input'])).split('\n').find((l) => l.includes('mesh.bypass.drop')) ?? '';
  for (const part of [`ip daddr ${ctx.addr.s2} iifname != {`, `"${ctx.tunDev}"`, '"lo"', ' drop']) assert.match(rule, part);
  // and the mesh still answers
  assert.is(await httpStatus(stationOf(ctx.tb, 's1').netns, `http://${ctx.addr.s2}:${API_PORT}/api/v1/health`), '200');
});

t('the station leaves the mesh: the rule leaves its table', async (ctx) => {
  const left = await stationApi(stationOf(ctx.tb, 's2'), 'POST', '/mesh/leave', {});
  assert.is(left.status, 200, JSON.stringify(left.body));
  await waitFor(
    's2 table without the mesh',
    async () => {
      const table = await nftList(ctx, ['table', 'inet', 'station']);
      return table.includes('table inet station') && !table.includes('mesh.bypass.drop') && !table.includes(ctx.addr.s2!) ? table : null;
    },
    15_000,
  );
});

t.run();
