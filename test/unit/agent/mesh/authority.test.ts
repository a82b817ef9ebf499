// The owner's authority with the real nebula-cert (keys and certificates in a temp directory).
// Nebula itself is not started here: the context's apply() is a double (test/helpers/mesh-authority.ts).
import { suite } from '../../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../../agent/exec.ts';
import type { MeshAuthority, EnrolRequest } from '../../../../agent/mesh/authority.ts';
import type { MeshContext } from '../../../../agent/mesh/context.ts';
import { decodeInvite, joinProof } from '../../../../agent/mesh/invite-code.ts';
import { NebulaCert } from '../../../../agent/mesh/nebula-cert.ts';
import { refusal, testAuthority } from '../../../helpers/mesh-authority.ts';
import { removeTempDirs } from '../../../helpers/temp-dirs.ts';

interface Ctx {
  mesh: MeshContext;
  authority: MeshAuthority;
  dir: string;
}
const authority = suite<Ctx>('mesh authority');
const cert = new NebulaCert(exec);

authority.before(async (ctx) => {
  Object.assign(ctx, await testAuthority('station-authority-', 'alice'));
});
authority.after(removeTempDirs);

/** A joining station's request, as join.ts makes it, for a fresh invite. */
async function request(ctx: Ctx, name: string, change: Partial<EnrolRequest> = {}): Promise<EnrolRequest> {
  const invite = decodeInvite((await ctx.authority.invite({ api: ['http://198.18.0.1:8088'] })).code);
  const key = join(ctx.dir, `${name}-${Math.random().toString(36).slice(2)}`);
  await cert.keygen(`${key}.key`, `${key}.pub`);
  const fields = {
    inviteId: invite.id,
    name,
    publicKey: await readFile(`${key}.pub`, 'utf8'),
    nonce: 'n0nce',
    endpoint: '',
    apiPort: 8088,
    ...change,
  };
  return { ...fields, proof: joinProof(invite.secret, fields), ...change };
}

authority("the owner's CA is limited to the mesh network and to the owner's node subnets (Nebula refuses anything else)", async (ctx) => {
  const [ca] = await cert.print(ctx.mesh.paths.caCrt);
  const s = ctx.mesh.doc.get();
  assert.equal(ca!.ips, ['100.64.0.0/10']);
  assert.equal(ca!.subnets, [s.nodeBlock]);
  const [host] = await cert.print(ctx.mesh.paths.hostCrt);
  assert.equal(host!.subnets, [s.nodeSubnet]);
  const reply = await ctx.authority.enrol(await request(ctx, 'a2'));
  const [a2] = await cert.inspect(JSON.parse(reply.payload).certificate);
  assert.ok(a2!.ips[0]!.endsWith('/10'), 'members still carry the whole mesh as their network');
});

// Issue 11, finding 5: a revoked name stays out until the owner re-admits it, and revoking a name
// blocks every certificate ever issued for it.
authority('a revoked name cannot enrol again, even with a valid invite; nothing changes', async (ctx) => {
  await ctx.authority.enrol(await request(ctx, 'a3'));
  const revoked = await ctx.authority.revoke('a3');
  const before = structuredClone(ctx.mesh.doc.get().members);
  assert.is(await refusal(ctx.authority.enrol(await request(ctx, 'a3'))), 'conflict:MESH_NAME_REVOKED');
  assert.equal(ctx.mesh.doc.get().members, before);
  assert.ok(ctx.mesh.doc.get().blocklist.includes(revoked.fingerprint));
});

authority('re-admitted, the name enrols again; revoked again, every certificate it ever had is blocked', async (ctx) => {
  const old = ctx.mesh.doc.get().members.find((m) => m.name === 'a3')!;
  assert.is(await refusal(ctx.authority.readmit('a2')), 'conflict:MESH_NAME_NOT_REVOKED', 'only a revoked name is re-admitted');
  await ctx.authority.readmit('a3');
  const reply = await ctx.authority.enrol(await request(ctx, 'a3'));
  const [fresh] = await cert.inspect(JSON.parse(reply.payload).certificate);
  assert.is.not(fresh!.ips[0], old.address, 'a new address: the revoked one is never handed out again');
  assert.ok(!ctx.mesh.doc.get().blocklist.includes(fresh!.fingerprint));
  const record = await ctx.authority.revoke('a3');
  assert.is(record.fingerprint, fresh!.fingerprint, 'the revocation is of the live certificate');
  const s = ctx.mesh.doc.get();
  assert.ok(s.blocklist.includes(fresh!.fingerprint), 'the new certificate is blocked');
  assert.ok(s.blocklist.includes(old.fingerprint), 'the old one stays blocked');
  assert.ok(
    s.members.filter((m) => m.name === 'a3').every((m) => m.revokedAt),
    'no live record of the name is left',
  );
  assert.is(await refusal(ctx.authority.enrol(await request(ctx, 'a3'))), 'conflict:MESH_NAME_REVOKED', 'refused again until re-admitted again');
});

authority("a station that left by itself may be invited again; its certificate stays blocked; the owner's revocation still sticks", async (ctx) => {
  await ctx.authority.enrol(await request(ctx, 'a4'));
  const left = await ctx.authority.revoke('a4', { left: true });
  assert.ok(ctx.mesh.doc.get().blocklist.includes(left.fingerprint));
  const reply = await ctx.authority.enrol(await request(ctx, 'a4'));
  const [again] = await cert.inspect(JSON.parse(reply.payload).certificate);
  await ctx.authority.revoke('a4');
  assert.ok(ctx.mesh.doc.get().blocklist.includes(again!.fingerprint));
  assert.is(await refusal(ctx.authority.enrol(await request(ctx, 'a4'))), 'conflict:MESH_NAME_REVOKED');
});

// Issue 11, finding 11: what a joining station says about itself goes into every station's
// nebula.yml and into how others call it, so it is checked and covered by the invite proof.
authority('an enrolment with an endpoint that is not HOST:PORT (1..65535) is refused; nothing changes', async (ctx) => {
  const before = structuredClone(ctx.mesh.doc.get().members);
  for (const endpoint of ['198.18.0.9:99999', '198.18.0.9:4242\n  am_lighthouse: true', '198.18.0.9']) {
    assert.is(await refusal(ctx.authority.enrol(await request(ctx, 'a5', { endpoint }))), 'invalid:MESH_ENDPOINT_INVALID', endpoint);
  }
  assert.equal(ctx.mesh.doc.get().members, before);
});

authority('the API port is covered by the invite proof: changed on the way, the enrolment is refused', async (ctx) => {
  const honest = await request(ctx, 'a5');
  assert.is(await refusal(ctx.authority.enrol({ ...honest, apiPort: 22 })), 'forbidden:MESH_INVITE_PROOF');
  assert.is(await refusal(ctx.authority.enrol(await request(ctx, 'a5', { apiPort: 70000 }))), 'invalid:MESH_API_PORT_INVALID');
  await ctx.authority.enrol(honest);
  assert.is(ctx.mesh.doc.get().members.find((m) => m.name === 'a5')!.apiPort, 8088);
});

authority.run();
