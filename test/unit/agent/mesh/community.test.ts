// Trusting another owner's CA (issue 11, finding 3), with the real nebula-cert: refused with
// nothing changed unless the CA is limited and its ranges are its own; only its own lighthouses
// are taken. Nebula is not started: the context's apply() is a double.
import { suite } from '../../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../../agent/exec.ts';
import { ownerBlock } from '../../../../agent/mesh/addresses.ts';
import { caWarnings, trustCa } from '../../../../agent/mesh/community.ts';
import type { MeshContext } from '../../../../agent/mesh/context.ts';
import { NebulaCert } from '../../../../agent/mesh/nebula-cert.ts';
import { refusal, testAuthority } from '../../../helpers/mesh-authority.ts';
import { removeTempDirs } from '../../../helpers/temp-dirs.ts';

interface Ctx {
  mesh: MeshContext;
  dir: string;
}
const community = suite<Ctx>('mesh community trust');
const cert = new NebulaCert(exec);
let made = 0;

/**
 * A CA made by nebula-cert (`limits`: its -ips/-subnets flags) whose /16 is neither alice's nor a
 * trusted owner's (two random CAs share one 1 time in 64, and the overlap is refused before anything else).
 */
async function makeCa(ctx: Ctx, limits: string[]): Promise<{ pem: string; block: string; fingerprint: string }> {
  for (;;) {
    const dir = join(ctx.dir, `ca${made++}`);
    await exec(['mkdir', '-p', dir]);
    await exec(['nebula-cert', 'ca', '-name', 'other', ...limits, '-out-key', join(dir, 'ca.key'), '-out-crt', join(dir, 'ca.crt')]);
    const [info] = await cert.print(join(dir, 'ca.crt'));
    const taken = [ctx.mesh.doc.get().block, ...ctx.mesh.doc.get().trusted.map((t) => ownerBlock(t.fingerprint))];
    if (!taken.includes(ownerBlock(info!.fingerprint)))
      return { pem: await readFile(join(dir, 'ca.crt'), 'utf8'), block: ownerBlock(info!.fingerprint), fingerprint: info!.fingerprint };
  }
}

community.before(async (ctx) => {
  Object.assign(ctx, await testAuthority('station-community-', 'alice'));
});
community.after(removeTempDirs);

community('an unlimited CA, or one overlapping our node subnets, is refused and nothing changes', async (ctx) => {
  const file = join(ctx.mesh.config.stateDir, 'mesh.json');
  const before = await readFile(file, 'utf8');
  const unlimited = await makeCa(ctx, []);
  assert.is(await refusal(trustCa(ctx.mesh, { owner: 'bob', ca: unlimited.pem, allow: [], lighthouses: [] })), 'invalid:MESH_CA_UNLIMITED');
  const overlapping = await makeCa(ctx, ['-ips', '100.64.0.0/10', '-subnets', ctx.mesh.doc.get().nodeSubnet!]);
  assert.is(await refusal(trustCa(ctx.mesh, { owner: 'bob', ca: overlapping.pem, allow: [], lighthouses: [] })), 'conflict:MESH_CA_OVERLAP');
  assert.is(await readFile(file, 'utf8'), before, 'mesh.json unchanged');
  assert.equal(ctx.mesh.doc.get().trusted, []);
});

community('a limited CA of its own ranges is trusted; of its lighthouses only those in its range are taken', async (ctx) => {
  const bob = await makeCa(ctx, ['-ips', '100.64.0.0/10', '-subnets', '10.250.0.0/16']);
  const theirs = { name: 'b1', address: bob.block.replace(/0\/16$/, '1'), endpoints: ['198.18.0.2:4242'] };
  const ours = { name: 'a1', address: ctx.mesh.doc.get().address, endpoints: ['198.18.0.66:4242'] };
  await trustCa(ctx.mesh, { owner: 'bob', ca: bob.pem, allow: [], lighthouses: [theirs, ours] });
  const [t] = ctx.mesh.doc.get().trusted;
  assert.equal(t!.subnets, ['10.250.0.0/16']);
  assert.equal(t!.lighthouses, [theirs], 'an address of ours listed as its lighthouse is left out');
  assert.equal(await caWarnings(cert, ctx.mesh.doc.get()), [], 'nothing to warn about');
  const carol = await makeCa(ctx, ['-ips', '100.64.0.0/10', '-subnets', '10.250.7.0/24']);
  assert.is(await refusal(trustCa(ctx.mesh, { owner: 'carol', ca: carol.pem, allow: [], lighthouses: [] })), 'conflict:MESH_CA_OVERLAP', 'overlaps bob');
  assert.is(await refusal(trustCa(ctx.mesh, { owner: 'alice', ca: carol.pem, allow: [], lighthouses: [] })), 'conflict:MESH_OWNER_TAKEN', 'our own owner name');
  assert.is(ctx.mesh.doc.get().trusted.length, 1);
});

community('a lighthouse endpoint that is not HOST:PORT is refused and nothing changes (issue 11, finding 11)', async (ctx) => {
  const dave = await makeCa(ctx, ['-ips', '100.64.0.0/10', '-subnets', '10.251.0.0/16']);
  const before = structuredClone(ctx.mesh.doc.get().trusted);
  const lighthouse = { name: 'd1', address: dave.block.replace(/0\/16$/, '1'), endpoints: ['198.18.0.4:99999'] };
  assert.is(await refusal(trustCa(ctx.mesh, { owner: 'dave', ca: dave.pem, allow: [], lighthouses: [lighthouse] })), 'invalid:MESH_ENDPOINT_INVALID');
  for (const port of ['99999', '0', '90-80', '1-70000']) {
    assert.is(
      await refusal(trustCa(ctx.mesh, { owner: 'dave', ca: dave.pem, allow: [{ port, proto: 'tcp' }], lighthouses: [] })),
      'invalid:MESH_ALLOW_INVALID',
      port,
    );
  }
  assert.equal(ctx.mesh.doc.get().trusted, before);
});

community('a CA trusted before the checks keeps working, with a warning', async (ctx) => {
  const legacy = await makeCa(ctx, []);
  await ctx.mesh.doc.update((d) => {
    d.trusted.push({ owner: 'old', fingerprint: legacy.fingerprint, pem: legacy.pem, allow: [], lighthouses: [] });
  });
  const warnings = await caWarnings(cert, ctx.mesh.doc.get());
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`old was trusted before CAs were checked: its stations are admitted from ${legacy.block.replace(/\./g, '\\.')} only`));
});

community.run();
