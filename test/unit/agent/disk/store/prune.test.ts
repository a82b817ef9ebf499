// Pruning with the owner's authority, on the real engines: the authority signs with its real Nebula
// CA key (test/helpers/mesh-authority.ts), the store checks it with the CA's public key, waits its
// delay, then serves that one repository without --append-only on a second rclone, where restic
// forget --prune (run with the owner's key, which the store never has) really removes a snapshot.
// The mesh view is a double (no Nebula in a unit test); the integration test covers the mesh.
import { suite } from '../../../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../../../agent/config/load.ts';
import { PeerStore } from '../../../../../agent/disk/store/peer-store.ts';
import type { StationEvent } from '../../../../../agent/events.ts';
import { exec } from '../../../../../agent/exec.ts';
import type { MeshInfo } from '../../../../../agent/mesh/mesh-info.ts';
import { refusal, testAuthority } from '../../../../helpers/mesh-authority.ts';
import { removeTempDirs } from '../../../../helpers/temp-dirs.ts';
import { member, peer, storeDeps } from '../../../../helpers/store-deps.ts';
import { waitFor } from '../../../../helpers/wait.ts';

interface Ctx {
  store: PeerStore;
  events: StationEvent[];
  logged: () => string;
  role: MeshInfo['role'];
  caPem: string;
  repo: string;
  src: string;
  bobCa: string;
}
const t = suite<Ctx>('prune with the owner authority (real rclone and restic)');

const restic = (url: string, args: string[]) =>
  exec(['restic', '-r', url, '--no-cache', ...args], { env: { RESTIC_PASSWORD: 'owner-key-for-tests' }, allowFailure: true, timeoutMs: 90_000 });

t.before(async (ctx) => {
  const { dir, mesh } = await testAuthority('station-prune-', 'alice');
  const bob = await testAuthority('station-prune-', 'bob');
  ctx.bobCa = join(bob.mesh.config.stateDir, 'mesh', 'ca.key');
  ctx.caPem = mesh.doc.get().caPem;
  ctx.role = 'authority';
  ctx.events = [];
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = loadConfig({
    STATION_STATE_DIR: mesh.config.stateDir,
    STATION_NAME: 'a1',
    STATION_DISK_STORE_PORT: String(port),
    STATION_DISK_PRUNE_DELAY_SECONDS: '1',
  });
  const meshView = {
    info: () => ({ state: 'up', role: ctx.role, owner: 'alice', name: 'a1', address: '127.0.0.1', authority: 'a1', caPem: ctx.caPem }) as MeshInfo,
    peers: () => [peer('s2')],
  };
  const { deps, logged } = storeDeps(config, meshView, ctx.events);
  ctx.logged = logged;
  ctx.store = new PeerStore(deps);
  await ctx.store.start();
  await waitFor('the store', async () => ctx.events.some((e) => e.type === 'disk.store.started'));
  ctx.src = join(dir, 'src');
  mkdirSync(ctx.src);
  const g = await ctx.store.grant(member('s2'));
  ctx.repo = `${g.repositoryBase.replace('rest:http://', `rest:http://${g.user}:${g.password}@`)}web/`;
  assert.is((await restic(ctx.repo, ['init'])).exitCode, 0);
  for (const n of [1, 2]) {
    writeFileSync(join(ctx.src, 'f'), `version ${n}\n`);
    assert.is((await restic(ctx.repo, ['backup', ctx.src])).exitCode, 0);
  }
});
t.after(async (ctx) => {
  await ctx.store.stop();
  removeTempDirs();
});

t('refused: a tampered or foreign signature, another store, another owner, a repository not held, a member signing', async (ctx) => {
  const signed = await ctx.store.prunes.sign({ store: 'a1', station: 's2', repository: 'web' });
  const tampered = { ...signed, request: signed.request.replace('"web"', '"db"') };
  assert.is(await refusal(ctx.store.prunes.accept(tampered, member('s2'))), 'forbidden:DISK_PRUNE_SIGNATURE');
  const { signPrune } = await import('../../../../../agent/disk/store/prune-request.ts');
  const { readFileSync } = await import('node:fs');
  const byBob = signPrune(readFileSync(ctx.bobCa, 'utf8'), { owner: 'alice', store: 'a1', station: 's2', repository: 'web' }, new Date());
  assert.is(await refusal(ctx.store.prunes.accept(byBob, member('s2'))), 'forbidden:DISK_PRUNE_SIGNATURE', "bob's CA cannot sign for alice");
  const otherStore = await ctx.store.prunes.sign({ store: 's3', station: 's2', repository: 'web' });
  assert.is(await refusal(ctx.store.prunes.accept(otherStore, member('s2'))), 'forbidden:DISK_PRUNE_STORE');
  assert.is(await refusal(ctx.store.prunes.accept(signed, member('s2', 'bob'))), 'forbidden:DISK_PRUNE_OWNER');
  const missing = await ctx.store.prunes.sign({ store: 'a1', station: 's2', repository: 'db' });
  assert.is(await refusal(ctx.store.prunes.accept(missing, member('s2'))), 'not-found:DISK_STORE_NOTHING_HELD');
  assert.is(await refusal(ctx.store.prunes.sign({ store: 'a1', station: '../x', repository: 'web' })), 'invalid:DISK_PRUNE_INVALID');
  ctx.role = 'member';
  assert.is(await refusal(ctx.store.prunes.sign({ store: 'a1', station: 's2', repository: 'web' })), 'conflict:MESH_NOT_AUTHORITY');
  ctx.role = 'authority';
  assert.not.ok(
    ctx.events.some((e) => e.type === 'disk.store.prune.requested'),
    'nothing refused was recorded',
  );
});

t('a signed request waits its delay, then one repository is prunable until done; a replay is refused', async (ctx) => {
  const signed = await ctx.store.prunes.sign({ store: 'a1', station: 's2', repository: 'web' });
  const accepted = await ctx.store.prunes.accept(signed, member('a1'));
  assert.is(accepted.state, 'waiting');
  assert.ok(ctx.events.some((e) => e.type === 'disk.store.prune.requested'));
  assert.match(ctx.logged(), /prune request signed by the owner's authority received/);
  assert.is(await refusal(ctx.store.prunes.accept(signed, member('a1'))), 'conflict:DISK_PRUNE_REPLAYED');
  const early = await ctx.store.prunes.window(accepted.id, member('a1'), '127.0.0.1');
  assert.is(early.state, 'waiting', 'not before the delay');
  assert.is(early.password, undefined);
  // the append-only store refuses deleting a snapshot (restic forget retries that for ~46 s: a raw DELETE shows it at once)
  const [first] = JSON.parse((await restic(ctx.repo, ['snapshots', '--json'])).stdout) as { id: string }[];
  const http = new URL(ctx.repo.replace('rest:', ''));
  const del = await exec([
    'curl',
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-u',
    `${http.username}:${http.password}`,
    '-X',
    'DELETE',
    `${http.origin}${http.pathname}snapshots/${first!.id}`,
  ]);
  assert.is(del.stdout, '403');

  const w = await waitFor(
    'the delay',
    async () => {
      const v = await ctx.store.prunes.window(accepted.id, member('a1'), '127.0.0.1');
      return v.state === 'open' ? v : null;
    },
    10_000,
    200,
  );
  assert.ok(w.repositoryUrl && w.password);
  const url = w.repositoryUrl!.replace('rest:http://', `rest:http://${w.user}:${w.password}@`);
  const pruned = await restic(url, ['forget', '--keep-last', '1', '--prune']);
  assert.is(pruned.exitCode, 0, pruned.stderr);
  const left = JSON.parse((await restic(ctx.repo, ['snapshots', '--json'])).stdout);
  assert.is(left.length, 1, 'one snapshot pruned');
  const done = await ctx.store.prunes.close(accepted.id, member('a1'));
  assert.is(done.state, 'done');
  assert.is.not((await restic(url, ['snapshots'])).exitCode, 0, 'the window is closed');
  assert.ok(ctx.events.some((e) => e.type === 'disk.store.pruned'));
  assert.is((await ctx.store.prunes.window(accepted.id, member('a1'), '127.0.0.1')).state, 'done', 'a used request opens nothing again');
  assert.not.ok(ctx.logged().includes(w.password!) || JSON.stringify(ctx.events).includes(w.password!), 'the window password is in no log or event');
});

t.run();
