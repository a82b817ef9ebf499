// The peer store on the real engines: rclone serve restic (append-only, private repositories,
// htpasswd) run by the PeerStore, restic backing up through it. The mesh is a double here (a unit
// test has no Nebula): it says "up" with a loopback address; test/integration/disk-store.test.ts
// does the same over a real mesh between testbed stations.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../../../agent/config/load.ts';
import { PeerStore } from '../../../../../agent/disk/store/peer-store.ts';
import type { StationEvent } from '../../../../../agent/events.ts';
import { exec } from '../../../../../agent/exec.ts';
import type { MeshInfo } from '../../../../../agent/mesh/mesh-info.ts';
import type { PeerView } from '../../../../../agent/mesh/peers.ts';
import { removeTempDirs, tempDir } from '../../../../helpers/temp-dirs.ts';
import { member, peer, storeDeps } from '../../../../helpers/store-deps.ts';
import { waitFor } from '../../../../helpers/wait.ts';

interface Ctx {
  dir: string;
  store: PeerStore;
  events: StationEvent[];
  logText: () => string;
  mesh: { state: MeshInfo['state']; address: string | null };
  /** the owner's other stations as the mesh lists them (revoked ones too) */
  peers: PeerView[];
  port: number;
  src: string;
}
const t = suite<Ctx>('peer store (real rclone and restic)');

function build(ctx: Ctx, offerGb = 1): PeerStore {
  const config = loadConfig({ STATION_STATE_DIR: join(ctx.dir, 'state'), STATION_DISK_STORE_PORT: String(ctx.port), STATION_DISK_OFFER_GB: String(offerGb) });
  const mesh = { info: () => ({ state: ctx.mesh.state, address: ctx.mesh.address }) as MeshInfo, peers: () => ctx.peers };
  const { deps, logged } = storeDeps(config, mesh, ctx.events);
  ctx.logText = logged;
  return new PeerStore(deps);
}

const started = (ctx: Ctx, n = 1) => waitFor(`disk.store.started #${n}`, async () => ctx.events.filter((e) => e.type === 'disk.store.started').length >= n);

/** restic against a repository URL with credentials; the owner's key is a fixed test password. */
const restic = (url: string, args: string[], allowFailure = true) =>
  exec(['restic', '-r', url, '--no-cache', ...args], { env: { RESTIC_PASSWORD: 'owner-key-for-tests' }, allowFailure, timeoutMs: 60_000 });
const withAuth = (base: string, user: string, password: string) => base.replace('rest:http://', `rest:http://${user}:${password}@`);
/** The URL of repository `name` opened with a grant's own credentials. */
const repoUrl = (g: { repositoryBase: string; user: string; password: string }, name: string) => `${withAuth(g.repositoryBase, g.user, g.password)}${name}/`;
/** The store started and serving (its first disk.store.started). */
async function serving(ctx: Ctx): Promise<void> {
  await ctx.store.start();
  await started(ctx);
}
/** The error code a refused request carries ('accepted' when it was not refused). */
const refusedWith = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { code: string }) => e.code,
  );

t.before.each(async (ctx) => {
  ctx.dir = tempDir('station-peer-store-');
  ctx.events = [];
  ctx.mesh = { state: 'up', address: '127.0.0.1' };
  ctx.peers = ['s2', 's3'].map(peer);
  ctx.port = 20_000 + Math.floor(Math.random() * 20_000);
  ctx.src = join(ctx.dir, 'src');
  mkdirSync(ctx.src);
  writeFileSync(join(ctx.src, 'data.txt'), 'MARKER-peer-store-test\n'.repeat(100));
  ctx.store = build(ctx);
});
t.after.each(async (ctx) => {
  await ctx.store.stop();
});
t.after(removeTempDirs);

t('in a mesh it serves restic on the mesh address; a grant lets the station back up into its own repositories only', async (ctx) => {
  await serving(ctx);
  assert.equal(ctx.store.health().state, 'ok');
  const g = await ctx.store.grant(member('s2'));
  assert.equal(g.user, 's2.alice');
  assert.equal(g.repositoryBase, `rest:http://127.0.0.1:${ctx.port}/s2.alice/`);
  assert.is(g.password.length, 43, '32 random bytes');
  assert.is(g.offerBytes, 2 ** 30);
  const repo = repoUrl(g, 'web');
  assert.is((await restic(repo, ['init'])).exitCode, 0);
  const backup = await restic(repo, ['backup', '--json', ctx.src]);
  assert.is(backup.exitCode, 0, backup.stderr);
  // another station's credentials do not open it
  const other = await ctx.store.grant(member('s3'));
  const theirs = await restic(`${withAuth(g.repositoryBase, other.user, other.password)}web/`, ['snapshots']);
  assert.match(theirs.stderr, /403/);
  // the htpasswd file holds a hash, not the password; neither the log nor the events carry it
  const htpasswd = readFileSync(ctx.store.htpasswdFile, 'utf8');
  assert.match(htpasswd, /^s2\.alice:\{SHA\}/m);
  assert.not.match(htpasswd, g.password);
  assert.is(statSync(ctx.store.htpasswdFile).mode & 0o777, 0o600);
  assert.not.match(ctx.logText() + JSON.stringify(ctx.events), g.password);
  assert.ok(ctx.events.some((e) => e.type === 'disk.store.granted' && (e.data as { station: string }).station === 's2'));
  const status = await ctx.store.status('alice');
  assert.ok(status.running);
  assert.ok(status.stations.find((s) => s.station === 's2')!.bytes > 0);
  assert.equal(
    (await ctx.store.holdings('alice')).map((h) => [h.station, h.repository, h.bytes > 0, h.lastWrite !== null]),
    [['s2', 'web', true, true]],
  );
  assert.equal(await ctx.store.holdings('bob'), [], "another owner's name shows nothing of alice's");
});

t('a new grant replaces the previous password at once', async (ctx) => {
  await serving(ctx);
  const first = await ctx.store.grant(member('s2'));
  assert.is((await restic(repoUrl(first, 'n1'), ['init'])).exitCode, 0);
  const second = await ctx.store.grant(member('s2'));
  assert.is.not(second.password, first.password);
  const old = await restic(repoUrl(first, 'n1'), ['snapshots']);
  assert.match(old.stderr, /401/);
  assert.is((await restic(repoUrl(second, 'n1'), ['snapshots'])).exitCode, 0);
});

t("readFrom: another station of the owner reads a gone station's repositories (hard links, no extra space)", async (ctx) => {
  await serving(ctx);
  const gone = await ctx.store.grant(member('s2'));
  const repo = repoUrl(gone, 'web');
  await restic(repo, ['init'], false);
  await restic(repo, ['backup', ctx.src], false);
  const g = await ctx.store.grant(member('s3'), 's2');
  assert.equal(g.repositoryBase, `rest:http://127.0.0.1:${ctx.port}/s3.alice/from-s2/`);
  const snaps = await restic(repoUrl(g, 'web'), ['snapshots', '--json']);
  assert.is(snaps.exitCode, 0, snaps.stderr);
  assert.is(JSON.parse(snaps.stdout).length, 1);
  const config = join(ctx.store.dir, 's2.alice/web/config');
  assert.is(statSync(config).nlink, 2, 'the copy shares the file');
  assert.is(await refusedWith(ctx.store.grant(member('s3'), 's9')), 'DISK_STORE_NOTHING_HELD');
  assert.is(await refusedWith(ctx.store.grant(member('s3'), 's3')), 'DISK_STORE_READ_FROM_SELF');
  assert.is(await refusedWith(ctx.store.grant(member('s3'), '../s2.alice')), 'DISK_STORE_READ_FROM_INVALID');
  assert.is(await refusedWith(ctx.store.grant(member('s3\nx:y'))), 'DISK_STORE_NAME_INVALID', 'a bad member record reaches no path and no htpasswd line');
  // bob's station named s3 asking for s2 gets nothing of alice's s2
  assert.is(await refusedWith(ctx.store.grant(member('s3', 'bob'), 's2')), 'DISK_STORE_NOTHING_HELD');
});

t('over its offer: grants are refused (DISK_STORE_FULL) and the writer that grew loses its password', async (ctx) => {
  await serving(ctx);
  const g = await ctx.store.grant(member('s2'));
  const repo = repoUrl(g, 'web');
  await restic(repo, ['init'], false);
  await ctx.store.checkNow();
  // a sparse file of the whole offer: du -sb counts its apparent size, as it would a real backup's
  const big = join(ctx.store.dir, 's2.alice', 'web', 'big');
  writeFileSync(big, '');
  truncateSync(big, 2 ** 30);
  const refusal = await ctx.store.grant(member('s3')).then(
    () => null,
    (e: { kind: string; code: string; message: string }) => e,
  );
  assert.is(refusal?.code, 'DISK_STORE_FULL');
  assert.is(refusal?.kind, 'capacity');
  assert.match(refusal!.message, /full/);
  await ctx.store.checkNow();
  assert.match((await restic(repo, ['snapshots'])).stderr, /401/, 's2 wrote past the offer: suspended');
  assert.ok(ctx.events.some((e) => e.type === 'disk.store.full'));
});

t('a station the owner revoked loses its store password at once; the others keep theirs, and its copies stay', async (ctx) => {
  await serving(ctx);
  const g2 = await ctx.store.grant(member('s2'));
  const g3 = await ctx.store.grant(member('s3'));
  const repo2 = repoUrl(g2, 'web');
  assert.is((await restic(repo2, ['init'])).exitCode, 0);
  ctx.peers = [{ ...peer('s2'), revoked: true }, peer('s3')];
  await ctx.store.reconcile();
  assert.match((await restic(repo2, ['snapshots'])).stderr, /401/, 'the revoked station is shut out');
  assert.is((await restic(repoUrl(g3, 'n'), ['init'])).exitCode, 0, 'the others are not');
  assert.equal(
    (await ctx.store.holdings('alice')).map((h) => h.station),
    ['s2', 's3'],
    "its copies stay: they are the owner's",
  );
});

t('off without a mesh or an offer, with the reason; moves with the mesh address; stops only its own rclone', async (ctx) => {
  ctx.mesh = { state: 'none', address: null };
  await ctx.store.start();
  assert.equal(ctx.store.health(), { state: 'off', reason: 'this station is in no mesh' });
  assert.is(await refusedWith(ctx.store.grant(member('s2'))), 'DISK_STORE_OFF');
  ctx.mesh = { state: 'up', address: '127.0.0.1' };
  await ctx.store.reconcile();
  await started(ctx);
  ctx.mesh = { state: 'up', address: '127.0.0.2' };
  await ctx.store.reconcile();
  await started(ctx, 2);
  assert.equal(ctx.events.filter((e) => e.type === 'disk.store.started').at(-1)!.data, { address: '127.0.0.2', port: ctx.port });
  const g = await ctx.store.grant(member('s2'));
  assert.match(g.repositoryBase, /127\.0\.0\.2/);
  // Nebula restarting (down for a moment, same address): the store keeps serving
  ctx.mesh = { state: 'down', address: '127.0.0.2' };
  await ctx.store.reconcile();
  assert.equal(ctx.store.health(), { state: 'ok' });
  ctx.mesh = { state: 'revoked', address: '127.0.0.2' };
  await ctx.store.reconcile();
  assert.equal(ctx.store.health(), { state: 'off', reason: 'the mesh is revoked' });
  assert.ok(ctx.events.some((e) => e.type === 'disk.store.stopped'));

  const none = build(ctx, 0);
  ctx.mesh = { state: 'up', address: '127.0.0.1' };
  await none.start();
  assert.equal(none.health(), { state: 'off', reason: 'this station offers no space (diskOfferGb is 0)' });
  await none.stop();
});

t('an rclone that dies is started again', async (ctx) => {
  await serving(ctx);
  const pid = Number(readFileSync(join(ctx.dir, 'state/disk/rclone-store.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await started(ctx, 2);
  const again = Number(readFileSync(join(ctx.dir, 'state/disk/rclone-store.pid'), 'utf8'));
  assert.is.not(again, pid);
  await ctx.store.stop();
  assert.throws(() => process.kill(again, 0), 'the store stopped the rclone it started');
});

t.run();
