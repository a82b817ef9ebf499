// The mesh in the testbed: real agents and real Nebula in namespaces behind simulated home NATs
// (198.18.0.0/16 internet, 198.19.x LANs), one station behind a second, carrier-grade NAT.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { ownerBlock } from '../../agent/mesh/addresses.ts';
import { decryptCa } from '../../agent/mesh/ca-export.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { createMesh, invite, meshPing, nebulaPids, restartStation, stationApi, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const mesh = suite<{ tb: Testbed; addr: Record<string, string>; codes: Record<string, string> }>('mesh testbed');

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const reach = (tb: Testbed, from: string, to: string, addr: Record<string, string>) => meshPing(stationOf(tb, from), addr[to]!, 1);

mesh.before(async (ctx) => {
  // s1 and s2 have a forwarded port (lighthouses and relays); s3 is behind plain NAT; s4 behind two.
  ctx.tb = await upForThisRun({ stations: 4, doubleNat: 1, publicStations: 2 });
  ctx.addr = {};
  ctx.codes = {};
});
mesh.after(cleanupAll);

mesh('the owner makes the mesh: CA key 0600 on the station, a lighthouse at its forwarded endpoint, a config Nebula accepts', async (ctx) => {
  const s1 = stationOf(ctx.tb, 's1');
  const bad = await stationApi(s1, 'POST', '/mesh', { owner: 'Alice Smith' });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'MESH_OWNER_INVALID');
  const early = await stationApi(s1, 'POST', '/mesh/invites', {});
  assert.is(early.status, 409);
  assert.is(early.body.error.code, 'MESH_NOT_AUTHORITY');
  assert.is((await stationApi(s1, 'GET', '/mesh')).body.role, 'none', 'nothing changed');
  ctx.addr.s1 = await createMesh(ctx.tb, 's1', 'alice');
  const info = (await stationApi(s1, 'GET', '/mesh')).body;
  assert.is(info.role, 'authority');
  assert.is(info.owner, 'alice');
  assert.is(info.state, 'up');
  assert.ok(info.lighthouse);
  assert.equal(
    info.lighthouses.map((l: { endpoints: string[] }) => l.endpoints),
    [['198.18.0.1:4242']],
  );
  assert.match(info.address, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
  for (const f of ['ca.key', 'host.key', 'host.crt']) assert.is((await stat(join(s1.stateDir, 'mesh', f))).mode & 0o777, 0o600, f);
  assert.is((await stat(join(s1.stateDir, 'mesh.json'))).mode & 0o777, 0o600);
  await exec(['nebula', '-test', '-config', join(s1.stateDir, 'mesh', 'nebula.yml')]);
  // The CA key leaves the station only as a passphrase-encrypted backup.
  const blob = await stationApi(s1, 'POST', '/mesh/authority/export', { passphrase: 'a long test passphrase' });
  assert.is(blob.status, 200);
  assert.not.match(JSON.stringify(blob.body), /PRIVATE KEY/);
  assert.is(decryptCa(blob.body, 'a long test passphrase').caKey, await readFile(join(s1.stateDir, 'mesh', 'ca.key'), 'utf8'));
  const again = await stationApi(s1, 'POST', '/mesh', { owner: 'bob' });
  assert.is(again.status, 409);
  assert.is(again.body.error.code, 'MESH_ALREADY_MEMBER');
});

mesh('three stations behind separate NATs join by invites and every pair pings over the mesh', async (ctx) => {
  const nebulaOf = async (name: string) => (await stationApi(stationOf(ctx.tb, name), 'GET', '/mesh')).body.nebula as { pid: number; restarts: number };
  for (const name of ['s2', 's3']) {
    ctx.codes[name] = await invite(ctx.tb, 's1');
    const r = await stationApi(stationOf(ctx.tb, name), 'POST', '/mesh/join', { code: ctx.codes[name] });
    assert.is(r.status, 200, JSON.stringify(r.body));
    assert.is(r.body.role, 'member');
    assert.is(r.body.caFingerprint, (await stationApi(stationOf(ctx.tb, 's1'), 'GET', '/mesh')).body.caFingerprint);
    ctx.addr[name] = r.body.address;
  }
  assert.is(new Set(Object.values(ctx.addr)).size, 3, 'addresses never collide');
  for (const a of ['s1', 's2', 's3']) {
    for (const b of ['s1', 's2', 's3']) {
      if (a !== b) await waitFor(`${a} -> ${b} over the mesh`, () => reach(ctx.tb, a, b, ctx.addr), 15_000);
    }
  }
  // Each joiner brought a node subnet the others route to it through the tunnel; s2 is also a
  // second lighthouse, which s3 has learnt.
  const s3 = stationOf(ctx.tb, 's3');
  await waitFor('s3 learns the new lighthouse from its authority', async () => (await stationApi(s3, 'GET', '/mesh')).body.lighthouses.length === 2, 20_000);
  const config = await readFile(join(s3.stateDir, 'mesh', 'nebula.yml'), 'utf8');
  assert.match(config, new RegExp(`- "${ctx.addr.s2!.replace(/\./g, '\\.')}"`), 's2 among the lighthouse hosts');
  for (const name of ['s1', 's2']) {
    const subnet = (await stationApi(stationOf(ctx.tb, name), 'GET', '/mesh')).body.nodeSubnet as string;
    assert.ok(config.includes(`- route: "${subnet}"\n      via: "${ctx.addr[name]}"`), `s3 routes ${name}'s node subnet ${subnet} to it`);
  }
  // A change that leaves the routes alone (here: trusting another owner) is a reload in place:
  // same Nebula process, tunnels kept. (Route changes restart it: Nebula 1.6 cannot reload them.)
  const before = await nebulaOf('s3');
  // Only a CA limited to the mesh and to node subnets of its own is trusted; its /16 (from its
  // fingerprint) must not be alice's, which 1 CA in 64 would be.
  const makeCa = () =>
    exec([
      'sh',
      '-c',
      'd=$(mktemp -d) && nebula-cert ca -name other -ips 100.64.0.0/10 -subnets 10.250.0.0/16 -out-key $d/k -out-crt $d/c >/dev/null && nebula-cert print ' +
        '-json -path $d/c >&2 && cat $d/c && rm -rf $d',
    ]);
  let other = await makeCa();
  while (ownerBlock(JSON.parse(other.stderr).fingerprint) === `${ctx.addr.s1!.split('.').slice(0, 2).join('.')}.0.0/16`) other = await makeCa();
  const trusted = await stationApi(s3, 'POST', '/mesh/trust', { owner: 'other', ca: other.stdout });
  assert.is(trusted.status, 200, JSON.stringify(trusted.body));
  assert.ok((await readFile(join(s3.stateDir, 'mesh', 'ca-bundle.crt'), 'utf8')).includes(other.stdout.trim()), 'the other CA is in the bundle');
  assert.equal(await nebulaOf('s3'), before, 'same Nebula process (reloaded, not restarted)');
  assert.ok(await reach(ctx.tb, 's3', 's1', ctx.addr), 'tunnels kept across the reload');
});

mesh('a used invite is refused with a clear error, and the refused station is left unchanged', async (ctx) => {
  const s4 = stationOf(ctx.tb, 's4');
  const r = await stationApi(s4, 'POST', '/mesh/join', { code: ctx.codes.s3 });
  assert.is(r.status, 409);
  assert.is(r.body.error.code, 'MESH_INVITE_USED');
  assert.match(r.body.error.message, /already used \(by s3/);
  assert.is((await stationApi(s4, 'GET', '/mesh')).body.role, 'none');
  const bad = await stationApi(s4, 'POST', '/mesh/join', { code: 'STN1-garbage-garbage' });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'MESH_INVITE_INVALID');
});

mesh('a 4th station behind two layers of NAT reaches the others through the relay', async (ctx) => {
  const s4 = stationOf(ctx.tb, 's4');
  const r = await stationApi(s4, 'POST', '/mesh/join', { code: await invite(ctx.tb, 's1') });
  assert.is(r.status, 200, JSON.stringify(r.body));
  ctx.addr.s4 = r.body.address;
  for (const other of ['s1', 's2', 's3']) {
    await waitFor(`s4 -> ${other}`, () => reach(ctx.tb, 's4', other, ctx.addr), 20_000);
    await waitFor(`${other} -> s4`, () => reach(ctx.tb, other, 's4', ctx.addr), 20_000);
  }
  // Nebula's own record of the tunnels: the lighthouses directly, s3 (behind NAT) through a relay.
  const peers = await waitFor(
    's4 peer view',
    async () => {
      const p = (await stationApi(s4, 'GET', '/mesh/peers')).body.peers as { name: string; online: boolean; via: string | null }[];
      return p.length === 3 && p.every((x) => x.online) ? p : undefined;
    },
    20_000,
  );
  assert.is(peers.find((p) => p.name === 's1')!.via, null, 'a lighthouse is reached directly');
  assert.is(peers.find((p) => p.name === 's2')!.via, null, 'a lighthouse is reached directly');
  assert.ok([ctx.addr.s1, ctx.addr.s2].includes(peers.find((p) => p.name === 's3')!.via!), 's3 through a relay');
});

mesh('/mesh/peers: name, owner, address, online, last handshake, latency', async (ctx) => {
  const s2 = stationOf(ctx.tb, 's2');
  const peers = await waitFor(
    's2 sees every peer online',
    async () => {
      const p = (await stationApi(s2, 'GET', '/mesh/peers')).body.peers as Record<string, unknown>[];
      return p.length === 3 && p.every((x) => x.online) ? p : undefined;
    },
    20_000,
  );
  for (const p of peers) {
    assert.is(p.owner, 'alice');
    assert.is(p.address, ctx.addr[p.name as string]);
    assert.type(p.latencyMs, 'number');
    assert.type(p.lastHandshake, 'string');
  }
  const openapi = JSON.parse((await exec(['curl', '-sS', `${s2.api}/api/openapi.json`], { netns: s2.netns })).stdout);
  for (const path of ['/api/v1/mesh', '/api/v1/mesh/peers']) assert.ok(openapi.paths[path]?.get?.responses?.['200'], `${path} has a response schema`);
});

mesh('station-to-station calls are authenticated by the mesh identity, not by where they come from', async (ctx) => {
  const s1 = stationOf(ctx.tb, 's1');
  const s2 = stationOf(ctx.tb, 's2');
  const over = await exec(['curl', '-sS', '-w', '\n%{http_code}', `http://${ctx.addr.s1}:8088/api/v1/mesh/directory`], { netns: s2.netns });
  assert.match(over.stdout, /\n200$/);
  assert.is(JSON.parse(over.stdout.replace(/\n200$/, '')).members.length, 4);
  const lan = await exec(['curl', '-sS', '-w', '\n%{http_code}', `${s1.api}/api/v1/mesh/directory`], { netns: s1.netns });
  assert.match(lan.stdout, /MESH_IDENTITY_REQUIRED[\s\S]*\n403$/);
  const internet = await exec(['curl', '-sS', '-w', '\n%{http_code}', 'http://198.18.0.1:8088/api/v1/mesh/directory'], { netns: s2.netns });
  assert.match(internet.stdout, /\n403$/);
  const notAuthority = await stationApi(s2, 'POST', '/mesh/peers/s3/revoke', {});
  assert.is(notAuthority.status, 409);
  assert.is(notAuthority.body.error.code, 'MESH_NOT_AUTHORITY');
});

mesh('Nebula is restarted when it dies', async (ctx) => {
  const s3 = stationOf(ctx.tb, 's3');
  const before = (await stationApi(s3, 'GET', '/mesh')).body.nebula;
  process.kill(before.pid, 'SIGKILL');
  const after = await waitFor(
    'a new Nebula',
    async () => {
      const n = (await stationApi(s3, 'GET', '/mesh')).body.nebula;
      return n.running && n.pid !== before.pid ? n : undefined;
    },
    15_000,
  );
  assert.is(after.restarts, before.restarts + 1);
  await waitFor('s3 -> s1 again', () => reach(ctx.tb, 's3', 's1', ctx.addr), 15_000);
});

mesh('a restarted station keeps its membership and its address', async (ctx) => {
  const before = (await stationApi(stationOf(ctx.tb, 's2'), 'GET', '/mesh')).body;
  const s2 = await restartStation(ctx.tb, 's2');
  const after = (await stationApi(s2, 'GET', '/mesh')).body;
  assert.is(after.state, 'up');
  assert.is(after.role, 'member');
  assert.is(after.address, before.address);
  assert.is(after.caFingerprint, before.caFingerprint);
  await waitFor('s2 -> s3 after restart', () => reach(ctx.tb, 's2', 's3', ctx.addr), 20_000);
  await waitFor('s4 -> s2 after restart', () => reach(ctx.tb, 's4', 's2', ctx.addr), 20_000);
});

mesh('after an agent crash, the next agent ends the orphaned Nebula and runs its own', async (ctx) => {
  const orphan = (await stationApi(stationOf(ctx.tb, 's2'), 'GET', '/mesh')).body.nebula.pid as number;
  const s2 = await restartStation(ctx.tb, 's2', { crash: true });
  const info = (await stationApi(s2, 'GET', '/mesh')).body;
  assert.is(info.role, 'member');
  assert.is.not(info.nebula.pid, orphan);
  assert.equal(await nebulaPids(s2), [info.nebula.pid], "exactly one Nebula in the namespace: the new agent's");
  await waitFor('s2 -> s1 after the crash', () => reach(ctx.tb, 's2', 's1', ctx.addr), 20_000);
});

mesh('a revoked station loses reachability within 60 s; the others keep theirs', async (ctx) => {
  const started = Date.now();
  const r = await stationApi(stationOf(ctx.tb, 's1'), 'POST', '/mesh/peers/s3/revoke', {});
  assert.is(r.status, 200);
  assert.type(r.body.revokedAt, 'string');
  // The first pairs to fail may only have lost a relay through the authority; the station is cut
  // once every member has taken the new blocklist (they poll their authority) and no pair gets through.
  const stillReaching = async () => {
    for (const [a, b] of [
      ['s1', 's3'],
      ['s2', 's3'],
      ['s4', 's3'],
      ['s3', 's2'],
      ['s3', 's4'],
    ] as const) {
      if (await reach(ctx.tb, a, b, ctx.addr)) return `${a} -> ${b}`;
    }
    return null;
  };
  const knowsRevoked = async (name: string) => {
    const peers = (await stationApi(stationOf(ctx.tb, name), 'GET', '/mesh/peers')).body.peers as { name: string; revoked: boolean }[];
    return peers.find((p) => p.name === 's3')?.revoked === true;
  };
  const cut = async () => (await knowsRevoked('s2')) && (await knowsRevoked('s4')) && (await stillReaching()) === null;
  await waitFor('every member to drop s3', cut, 60_000);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds < 60, `took ${seconds} s`);
  process.stdout.write(`  revoked station unreachable after ${seconds.toFixed(1)} s\n`);
  for (const [a, b] of [
    ['s2', 's4'],
    ['s4', 's1'],
    ['s1', 's2'],
  ] as const)
    await waitFor(`${a} -> ${b} still`, () => reach(ctx.tb, a, b, ctx.addr), 20_000);
  // It stays cut: a fresh handshake is refused too.
  await new Promise((r2) => setTimeout(r2, 3000));
  assert.is(await stillReaching(), null, 'still unreachable');
  // Cut off, the revoked station cannot reach its authority any more; it says so in its health.
  await waitFor(
    's3 reports the mesh degraded',
    async () => {
      const st = (await stationApi(stationOf(ctx.tb, 's3'), 'GET', '/status')).body as {
        subsystems: { name: string; state: string; reason?: string }[];
      };
      const m = st.subsystems.find((x) => x.name === 'mesh');
      return m?.state === 'degraded' && /authority/.test(m.reason ?? '') ? m : undefined;
    },
    30_000,
  );
  // Only the owner lets the name back in (with a new invite); an unknown name is 404.
  const readmitted = await stationApi(stationOf(ctx.tb, 's1'), 'POST', '/mesh/peers/s3/readmit', {});
  assert.is(readmitted.status, 200, JSON.stringify(readmitted.body));
  assert.type(readmitted.body.readmittedAt, 'string');
  assert.is((await stationApi(stationOf(ctx.tb, 's1'), 'POST', '/mesh/peers/nobody/readmit', {})).status, 404);
});

mesh('a member leaves: its key is deleted and the authority blocks its certificate', async (ctx) => {
  const s4 = stationOf(ctx.tb, 's4');
  const r = await stationApi(s4, 'POST', '/mesh/leave', {});
  assert.is(r.status, 200);
  assert.is(r.body.role, 'none');
  const gone = await stat(join(s4.stateDir, 'mesh', 'host.key')).then(
    () => false,
    () => true,
  );
  assert.ok(gone, 'the private key is deleted');
  const members = (await stationApi(stationOf(ctx.tb, 's1'), 'GET', '/mesh')).body.members;
  assert.is(members, 2, 'only s1 and s2 remain');
  // It may come back with a new invite: a new key, a new address (the old one stays retired).
  const back = await stationApi(s4, 'POST', '/mesh/join', { code: await invite(ctx.tb, 's1') });
  assert.is(back.status, 200, JSON.stringify(back.body));
  assert.ok(!Object.values(ctx.addr).includes(back.body.address), 'a fresh address');
  await waitFor('s4 back in the mesh', () => meshPing(s4, ctx.addr.s2!, 1), 20_000);
});

mesh.run();
