// Impersonation inside a community (issue 11, finding 3). Alice (a1 authority, a2 member) trusts
// Bob's CA. Bob holds his CA key, so he can sign a certificate carrying one of Alice's mesh
// addresses. Nebula 1.6 accepts that certificate (every CA may sign any address of the /10: see
// docs/mesh.md), so what must refuse it is Alice's Nebula firewall (rules bound to each CA and its
// address range) and Alice's station API (a mesh identity only from Alice's own range).
// The impostor runs a real Nebula in a fourth testbed namespace (e1), with a certificate made by
// Bob's real CA key on b1.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { toYaml } from '../../agent/mesh/yaml.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';
import { createMesh, createMeshApartFrom, join as joinMesh, meshPing, stationApi, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

interface Ctx {
  tb: Testbed;
  addr: Record<string, string>;
  dir: string;
  impostorLog: string;
}
const impersonation = suite<Ctx>('mesh impersonation');

/** HTTP status of a call made from a station's namespace ('000': no answer at all). */
const httpFrom = async (tb: Testbed, from: string, url: string, extra: string[] = []): Promise<string> =>
  (
    await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '4', ...extra, url], {
      netns: stationOf(tb, from).netns,
      allowFailure: true,
      timeoutMs: 10_000,
    })
  ).stdout;

const leaveCall = ['-X', 'POST', '-H', 'content-type: application/json', '-d', '{}'];

/** A key pair <base>.key/.pub in the test's directory, and nebula-cert's attempt to sign <base>.crt for it with the real
 * CA key of `caStation`: `name` at `ip` (CIDR), with `extra` flags (-groups, -subnets). Returns what nebula-cert said. */
async function signWithCaOf(ctx: Ctx, caStation: string, base: string, name: string, ip: string, extra: string[]) {
  const ca = join(stationOf(ctx.tb, caStation).stateDir, 'mesh');
  const file = (ext: string) => join(ctx.dir, `${base}.${ext}`);
  await exec(['nebula-cert', 'keygen', '-out-key', file('key'), '-out-pub', file('pub')]);
  const argv = ['nebula-cert', 'sign', '-ca-key', join(ca, 'ca.key'), '-ca-crt', join(ca, 'ca.crt'), '-name', name, '-ip', ip, ...extra];
  return exec([...argv, '-in-pub', file('pub'), '-out-crt', file('crt')], { allowFailure: true });
}

impersonation.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-imp-`));
  onCleanup(`temp dir ${ctx.dir}`, () => rm(ctx.dir, { recursive: true, force: true }));
  // a1 and b1 have forwarded ports (lighthouses); a2 is Alice's member behind NAT; e1 hosts the impostor.
  ctx.tb = await upForThisRun({ stations: 4, publicStations: 2, names: ['a1', 'b1', 'a2', 'e1'] });
  ctx.addr = { a1: await createMesh(ctx.tb, 'a1', 'alice') };
  ctx.addr.b1 = await createMeshApartFrom(ctx.tb, 'b1', 'bob', ctx.addr.a1!);
  ctx.addr.a2 = await joinMesh(ctx.tb, 'a1', 'a2');
  const alice = (await stationApi(stationOf(ctx.tb, 'a1'), 'GET', '/mesh')).body;
  const bob = (await stationApi(stationOf(ctx.tb, 'b1'), 'GET', '/mesh')).body;
  const trustBob = await stationApi(stationOf(ctx.tb, 'a1'), 'POST', '/mesh/trust', {
    owner: 'bob',
    ca: bob.caPem,
    lighthouses: bob.lighthouses,
  });
  assert.is(trustBob.status, 200, JSON.stringify(trustBob.body));
  const trustAlice = await stationApi(stationOf(ctx.tb, 'b1'), 'POST', '/mesh/trust', {
    owner: 'alice',
    ca: alice.caPem,
    lighthouses: alice.lighthouses,
  });
  assert.is(trustAlice.status, 200, JSON.stringify(trustAlice.body));
  await waitFor('b1 -> a1 over the mesh', () => meshPing(stationOf(ctx.tb, 'b1'), ctx.addr.a1!, 1), 30_000, 250);
  await waitFor('a2 -> a1 over the mesh', () => meshPing(stationOf(ctx.tb, 'a2'), ctx.addr.a1!, 1), 30_000, 250);
});
impersonation.after(cleanupAll);

impersonation("an honest station of the trusted owner reaches the API's public reads, but is no member", async (ctx) => {
  assert.is(await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:8088/api/v1/status`), '200');
  assert.is(await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:8088/api/v1/mesh/members/leave`, leaveCall), '403');
});

impersonation("the trusted owner's CA cannot sign one of our node subnets (Nebula enforces the CA's limits)", async (ctx) => {
  const a2Subnet = (await stationApi(stationOf(ctx.tb, 'a2'), 'GET', '/mesh')).body.nodeSubnet as string;
  const r = await signWithCaOf(ctx, 'b1', 'sub', 'x', `${ctx.addr.b1!.replace(/\.\d+$/, '.200')}/10`, ['-subnets', a2Subnet]);
  assert.is.not(r.exitCode, 0, "signed a certificate for Alice's node subnet");
  assert.match(r.stderr + r.stdout, /constraints violated/);
});

impersonation("a certificate from the trusted owner carrying our member's address is refused by Nebula's firewall and the API", async (ctx) => {
  const a1 = stationOf(ctx.tb, 'a1');
  const b1 = stationOf(ctx.tb, 'b1');
  const e1 = stationOf(ctx.tb, 'e1');
  // Bob signs "a2" with Alice's member's address, with his real CA key.
  const d = ctx.dir;
  const signed = await signWithCaOf(ctx, 'b1', 'imp', 'a2', `${ctx.addr.a2}/10`, ['-groups', 'station,owner-alice']);
  assert.is(signed.exitCode, 0, signed.stderr);
  // It trusts both CAs (Alice's is public) and dials a1's forwarded Nebula port directly.
  await writeFile(
    join(d, 'ca.crt'),
    `${(await readFile(join(b1.stateDir, 'mesh/ca.crt'), 'utf8')).trimEnd()}\n${(await readFile(join(a1.stateDir, 'mesh/ca.crt'), 'utf8')).trimEnd()}\n`,
  );
  const tun = runName('im');
  await writeFile(
    join(d, 'nebula.yml'),
    toYaml({
      pki: { ca: join(d, 'ca.crt'), cert: join(d, 'imp.crt'), key: join(d, 'imp.key') },
      static_host_map: { [ctx.addr.a1!]: [`${a1.publicIp}:4242`] },
      lighthouse: { am_lighthouse: false, interval: 60, hosts: [] },
      listen: { host: '0.0.0.0', port: 0 },
      punchy: { punch: true, respond: true },
      tun: { disabled: false, dev: tun, mtu: 1300 },
      logging: { level: 'info', format: 'json' },
      firewall: { outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [{ port: 'any', proto: 'any', host: 'any' }] },
    }),
  );
  ctx.impostorLog = join(d, 'nebula.log');
  const fd = openSync(ctx.impostorLog, 'a');
  const nebula = spawn('ip', ['netns', 'exec', e1.netns, 'nebula', '-config', join(d, 'nebula.yml')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  onCleanup(`impostor nebula pid ${nebula.pid}`, () => nebula.kill('SIGKILL'));
  // Nebula 1.6 accepts the handshake (Bob's CA may sign any mesh address): ping, open to the whole
  // community, answers; that shows the tunnel is up and what follows is the firewall's and API's doing.
  await waitFor("the impostor's tunnel to a1", () => meshPing(e1, ctx.addr.a1!, 1), 30_000, 250).catch((error: Error) => {
    throw new Error(`${error.message}\n${readFileSync(ctx.impostorLog, 'utf8').slice(-3000)}`);
  });
  // As "a2" it tries to make a2 leave, and to read the directory only members get.
  const leave = await httpFrom(ctx.tb, 'e1', `http://${ctx.addr.a1}:8088/api/v1/mesh/members/leave`, leaveCall);
  const directory = await httpFrom(ctx.tb, 'e1', `http://${ctx.addr.a1}:8088/api/v1/mesh/directory`);
  const status = await httpFrom(ctx.tb, 'e1', `http://${ctx.addr.a1}:8088/api/v1/status`);
  const peers = (await stationApi(a1, 'GET', '/mesh/peers')).body.peers as { name: string; revoked: boolean }[];
  assert.is(peers.find((p) => p.name === 'a2')?.revoked, false, 'a2 was revoked by the impostor');
  assert.is(leave, '000', 'the leave call reached the API');
  assert.is(directory, '000', 'the directory call reached the API');
  assert.is(status, '000', "Nebula's firewall let the impostor reach the API port at all");
  // The honest station of the same CA still gets through: the rule is bound to the address range.
  assert.is(await httpFrom(ctx.tb, 'b1', `http://${ctx.addr.a1}:8088/api/v1/status`), '200');
  nebula.kill('SIGKILL');
  // a2 keeps its membership and, once the impostor is gone, its tunnel to the authority.
  await waitFor('a2 -> a1 again', () => meshPing(stationOf(ctx.tb, 'a2'), ctx.addr.a1!, 1), 60_000, 500);
  assert.is((await stationApi(stationOf(ctx.tb, 'a2'), 'GET', '/mesh')).body.state, 'up');
});

impersonation.run();
