// The copies part on real engines: a btrfs loop pool with real read-only snapshots, restic 0.14,
// and four peer stores (`rclone serve restic --append-only --private-repos`, one per address in a
// network namespace this test makes). Doubles, named as such: the mesh (which peers are online),
// the snapshots part (takes one btrfs snapshot per call), the node service (records the spec), and
// the peers' grant/holdings routes (StoreDouble: what api/routes/disk-store.ts answers, over files).
// Everything is removed even when a test fails.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyKeeper } from '../../agent/disk/copies/copy-keeper.ts';
import type { PeerGrant, PeerHolding, StoreClient } from '../../agent/disk/copies/peer-client.ts';
import type { CopyDeps } from '../../agent/disk/copies/copy-deps.ts';
import { ensureOwnerDiskKey, ownerKeyFile } from '../../agent/disk/owner-key.ts';
import { EventBus, type StationEvent } from '../../agent/events.ts';
import { exec, type Runner } from '../../agent/exec.ts';
import { createLogger } from '../../agent/log.ts';
import type { PeerView } from '../../agent/mesh/peers.ts';
import type { NodeView } from '../../agent/nodes/view.ts';
import { BtrfsVolumeDriver } from '../../agent/storage/btrfs-driver.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { serveRestic } from '../helpers/restic-server.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const PEERS = ['s2', 's3', 's4'];
const addressOf = (peer: string) => `198.18.13.${20 + Number(peer.slice(1))}`;
const PORT = 8713;
const MARKER = `ST13-MARKER-${randomBytes(8).toString('hex')}`;
let dir: string;
let ns: Netns;
let driver: BtrfsVolumeDriver;
const servers = new Map<string, { stop: () => Promise<void> }>();
const online = new Map(PEERS.map((p) => [p, true]));

// ---- doubles ----

/** What a peer's /disk/store/grant and /holdings answer (agent/disk/store/peer-store.ts), over its files. */
class StoreDouble implements StoreClient {
  private readonly self: string;
  constructor(self: string) {
    this.self = self;
  }
  async grant(peer: { name: string; apiPort: number }, readFrom?: string): Promise<PeerGrant> {
    // the peer is called at the API port its member record gives, not this station's own
    if (peer.apiPort !== 8088) throw new Error(`${peer.name} called at port ${peer.apiPort}, not its own 8088`);
    const user = `${this.self}.alice`;
    const password = randomBytes(12).toString('base64url');
    const line = (await exec(['openssl', 'passwd', '-apr1', '-stdin'], { input: password, secrets: [password] })).stdout.trim();
    const file = join(dir, peer.name, 'htpasswd');
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith(`${user}:`));
    writeFileSync(file, [...kept, `${user}:${line}`, ''].join('\n'));
    mkdirSync(join(dir, peer.name, 'store', user), { recursive: true });
    let sub = '';
    if (readFrom) {
      await exec(['cp', '-al', join(dir, peer.name, 'store', `${readFrom}.alice`), join(dir, peer.name, 'store', user, `from-${readFrom}`)]);
      sub = `from-${readFrom}/`;
    }
    return {
      repositoryBase: `rest:http://${addressOf(peer.name)}:${PORT}/${user}/${sub}`,
      user,
      password,
      offerBytes: 2 ** 30,
      usedBytes: 0,
      freeBytes: 2 ** 30,
    };
  }
  async holdings(peer: { name: string }): Promise<PeerHolding[]> {
    const out: PeerHolding[] = [];
    const store = join(dir, peer.name, 'store');
    for (const user of readdirSync(store)) {
      for (const repository of readdirSync(join(store, user))) {
        if (!repository.startsWith('from-') && existsSync(join(store, user, repository, 'config')))
          out.push({ station: user.replace(/\.alice$/, ''), repository, bytes: 0, lastWrite: null });
      }
    }
    return out;
  }
}

const peerView = (name: string): PeerView => ({
  name,
  owner: 'alice',
  address: addressOf(name),
  lighthouse: false,
  online: online.get(name) ?? false,
  lastHandshake: null,
  lastSeen: null,
  latencyMs: 1,
  via: null,
  revoked: false,
  nodeSubnet: null,
  apiPort: 8088, // the peers' API port, unlike this station's own (8099)
});

const specOf = (name: string) => ({
  name,
  template: 'debian',
  volumes: [{ name: 'data', path: '/srv', class: 'private' }],
  disk: { snapshotSeconds: 60, backupSeconds: 3600, copies: 2 },
});
const viewOf = (name: string) => ({ name, state: 'stopped', spec: specOf(name) }) as unknown as NodeView;
const nodes: NodeView[] = [viewOf('web')];
let snapshotCount = 0;
const newest = new Map<string, { name: string; createdAt: string }>();

async function snapshotNow(node = 'web'): Promise<string> {
  const name = `set-${++snapshotCount}`;
  await exec(['sync']);
  await driver.createSnapshot({ node, volume: 'data' }, name);
  newest.set(node, { name, createdAt: new Date().toISOString() });
  return name;
}

function keeperFor(station: string, stateDir: string, volumes: BtrfsVolumeDriver, events: EventBus, run: Runner = exec): CopyKeeper {
  const config = { stateDir, httpPort: 8099, diskPeerLostSeconds: 3, diskCheckSeconds: 0 };
  const deps: CopyDeps = {
    config,
    run,
    events,
    log: createLogger('silent', false),
    nodes: { list: () => (station === 's1' ? nodes : []), volumeDriver: () => volumes },
    mesh: {
      info: () => ({ state: 'up', owner: 'alice', name: station }) as ReturnType<CopyDeps['mesh']['info']>,
      peers: () => PEERS.map(peerView),
    },
  };
  const sets = {
    newest: async (node: string) => {
      const set = newest.get(node);
      return set ? { ...set, volumes: [{ volume: 'data' }] } : null;
    },
  };
  return new CopyKeeper(deps, sets, { store: new StoreDouble(station), stallSeconds: 8, netns: ns.name, checkSubset: '100%' });
}

async function startServer(peer: string): Promise<void> {
  const stop = await serveRestic(ns.name, `${addressOf(peer)}:${PORT}`, { htpasswd: join(dir, peer, 'htpasswd'), store: join(dir, peer, 'store') });
  servers.set(peer, { stop });
}

const events: StationEvent[] = [];
const bus = new EventBus();
bus.subscribe((e) => events.push(e));
const seen = (type: string) => events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);
let keeper: CopyKeeper;
let stateDir: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-keeper-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', '--one-file-system', dir]));
  const pool = testPool(dir, 'pool', 1024 * 2 ** 20);
  await pool.ensure();
  driver = new BtrfsVolumeDriver({ root: join(pool.mountPoint, 'volumes') });
  await driver.prepare();
  await driver.createVolume({ node: 'web', volume: 'data' });
  ns = await createNetns('kp');
  for (const peer of PEERS) {
    await ns.run(['ip', 'addr', 'add', `${addressOf(peer)}/32`, 'dev', 'lo']);
    mkdirSync(join(dir, peer, 'store'), { recursive: true });
    writeFileSync(join(dir, peer, 'htpasswd'), '');
    await startServer(peer);
  }
  stateDir = join(dir, 's1-state');
  await ensureOwnerDiskKey(stateDir);
  keeper = keeperFor('s1', stateDir, driver, bus);
  onCleanup('keeper', () => keeper?.stop());
  await keeper.start();
});
test.after(cleanupAll);

const volume = () => driver.mountSource({ node: 'web', volume: 'data' });

test('a node backed up on demand gets two copies on two peers, and no peer holds the marker in any file', async () => {
  writeFileSync(join(volume(), 'note.txt'), `${MARKER} the secret\n`);
  writeFileSync(join(volume(), 'noise.bin'), randomBytes(4 * 2 ** 20));
  writeFileSync(join(volume(), `${MARKER}.name`), 'named after the marker');
  await snapshotNow();
  const outcomes = await keeper.backup('web');
  assert.equal(
    outcomes.map((o) => o.ok),
    [true, true],
  );
  const report = keeper.report('web')!;
  assert.equal({ want: report.want, have: report.have, state: report.state }, { want: 2, have: 2, state: 'ok' });
  assert.is(new Set(report.list.map((c) => c.station)).size, 2, 'never two copies on one station');
  const grep = await exec(['grep', '-rl', MARKER, ...PEERS.map((p) => join(dir, p, 'store'))], { allowFailure: true });
  assert.is(grep.stdout, '', 'the marker is in no file on any peer');
  const names = await exec(['find', ...PEERS.map((p) => join(dir, p, 'store')), '-name', `*${MARKER}*`]);
  assert.is(names.stdout, '', 'nor in any file name');
  assert.is(statSync(join(stateDir, 'disk', 'copies.json')).mode & 0o777, 0o600, 'the state holding grants is 0600');
  assert.not.match(JSON.stringify(events), /password/, 'no event carries a grant password');
});

test('a changed file: only it is read again, and the same set is not backed up twice', async () => {
  writeFileSync(join(volume(), 'note.txt'), `${MARKER} changed\n`);
  await snapshotNow();
  const before = seen('disk.copy.succeeded').length;
  await keeper.backup('web');
  const runs = seen('disk.copy.succeeded').slice(before);
  assert.is(runs.length, 2);
  for (const r of runs) assert.ok((r.dataAdded as number) < 100_000, `incremental: ${r.dataAdded} bytes added`);
  assert.equal(await keeper.backup('web'), [], 'nothing new: no run');
});

test('a store that forgot our password while the mesh view lags (as after an agent restart): asked again, the same run backs up', async () => {
  const copies = () => JSON.parse(readFileSync(join(stateDir, 'disk', 'copies.json'), 'utf8')).nodes.web as { station: string; password: string }[];
  const passwords = () => copies().map((c) => c.password);
  const before = passwords();
  // the holders are reachable but not yet seen online, so the run renews no grant up front
  for (const c of copies()) online.set(c.station, false);
  for (const peer of PEERS) {
    const file = join(dir, peer, 'htpasswd');
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('s1.alice:'));
    writeFileSync(file, kept.join('\n'));
  }
  writeFileSync(join(volume(), 'note.txt'), `${MARKER} after the store forgot us\n`);
  await snapshotNow();
  const outcomes = await keeper.backup('web').finally(() => {
    for (const p of PEERS) online.set(p, true);
  });
  assert.equal(
    outcomes.map((o) => [o.ok, o.error]),
    [
      [true, null],
      [true, null],
    ],
  );
  const after = passwords();
  assert.ok(
    after.every((p: string, i: number) => p !== before[i]),
    'the new grants are on disk',
  );
});

test('two nodes share a store: one grant per store, so copying one never locks the other out', async () => {
  // the store keeps one password per station and every grant replaces it (docs/disk-store.md)
  await driver.createVolume({ node: 'api', volume: 'data' });
  writeFileSync(join(driver.mountSource({ node: 'api', volume: 'data' }), 'api.txt'), 'api data');
  nodes.push(viewOf('api'));
  await snapshotNow('api');
  assert.equal(
    (await keeper.backup('api')).map((o) => o.ok),
    [true, true],
  );
  writeFileSync(join(volume(), 'note.txt'), `${MARKER} changed\n`);
  await snapshotNow('web');
  const web = await keeper.backup('web');
  assert.equal(
    web.map((o) => [o.ok, o.error]),
    [
      [true, null],
      [true, null],
    ],
    'web still writes to the stores api was just granted on',
  );
  nodes.pop();
});

test('a peer gone longer than diskPeerLostSeconds: its copy is replaced on another peer from a surviving copy', async () => {
  const holders = keeper.report('web')!.list.map((c) => c.station);
  const victim = holders[0]!;
  const spare = PEERS.find((p) => !holders.includes(p))!;
  await servers.get(victim)!.stop();
  online.set(victim, false);
  await new Promise((r) => setTimeout(r, 1500)); // the keeper's tick notes the peer offline
  writeFileSync(join(volume(), 'later.txt'), 'written while a peer was away\n');
  await snapshotNow();
  await keeper.backup('web'); // within the lost time: the copy stays (a reboot is not a loss)
  assert.ok(keeper.report('web')!.list.some((c) => c.station === victim && c.state === 'lost'));
  assert.is(keeper.report('web')!.state, 'degraded');
  await new Promise((r) => setTimeout(r, 3000));
  await keeper.backup('web');
  assert.equal(seen('disk.copy.lost').at(-1), { node: 'web', station: victim, why: 'lost' });
  assert.equal(seen('disk.copy.replaced').at(-1), { node: 'web', from: victim, to: spare, how: 'copy' });
  const report = keeper.report('web')!;
  assert.equal(
    report.list.map((c) => c.station).sort(),
    holders
      .filter((h) => h !== victim)
      .concat(spare)
      .sort(),
  );
  assert.equal({ have: report.have, state: report.state }, { have: 2, state: 'ok' });
  online.set(victim, true);
  await startServer(victim);
});

test('restore anywhere: another station of the owner brings the node back from the newest copy', async () => {
  const elsewhere = new BtrfsVolumeDriver({ root: join(dir, 'pool', 'volumes-s9') });
  await elsewhere.prepare();
  const s9State = join(dir, 's9-state');
  mkdirSync(join(s9State, 'disk'), { recursive: true, mode: 0o700 });
  writeFileSync(ownerKeyFile(s9State), readFileSync(ownerKeyFile(stateDir)), { mode: 0o600 });
  const s9Events = new EventBus();
  const s9 = keeperFor('s9', s9State, elsewhere, s9Events);
  await s9.start();
  onCleanup('keeper s9', () => s9.stop());
  const created: unknown[] = [];
  const result = await s9.restore({ node: 'web' }, { create: async (s) => void created.push(s) });
  assert.equal(result.volumes, ['data']);
  assert.equal((created[0] as { name: string }).name, 'web');
  const restored = elsewhere.mountSource({ node: 'web', volume: 'data' });
  assert.is(readFileSync(join(restored, 'note.txt'), 'utf8'), `${MARKER} changed\n`);
  assert.is(readFileSync(join(restored, 'later.txt'), 'utf8'), 'written while a peer was away\n');
  assert.equal(readdirSync(restored).sort(), ['later.txt', 'noise.bin', 'note.txt', `${MARKER}.name`].sort(), 'no staging left behind');
  const again = await s9.restore({ node: 'web' }, { create: async () => undefined }).catch((e: { code: string }) => e.code);
  assert.is(again, 'VOLUME_EXISTS', 'a second restore over the first changes nothing');
});

test('a damaged copy is found by the check and replaced', async () => {
  const holder = keeper.report('web')!.list[0]!.station;
  const user = join(dir, holder, 'store', 's1.alice', 'web', 'data');
  const pack = (await exec(['find', user, '-type', 'f'])).stdout.split('\n').filter(Boolean)[0]!;
  await exec(['dd', `of=${pack}`, 'bs=1', 'seek=100', 'conv=notrunc'], { input: 'XXXXXXXXXXXXXXXX' });
  await keeper.check('web');
  assert.equal(seen('disk.copy.checked').find((c) => c.station === holder && c.ok === false)?.ok, false);
  await keeper.backup('web');
  assert.ok(seen('disk.copy.lost').some((l) => l.station === holder && l.why === 'damaged'));
  const report = keeper.report('web')!;
  assert.not.ok(
    report.list.some((c) => c.station === holder),
    'the damaged copy is given up',
  );
  assert.is(report.have, 2, 'a new copy replaced it');
});

test('restic killed mid-backup (as with the agent): no snapshot counted; after a restart the next run succeeds', async () => {
  writeFileSync(join(volume(), 'big.bin'), randomBytes(16 * 2 ** 20));
  await snapshotNow();
  const before = keeper.report('web')!.list.map((c) => [c.station, c.snapshot]);
  // a runner that SIGKILLs restic once it reports progress (its own signal that the upload is under way)
  const killing = keeperFor('s1', stateDir, driver, bus, (argv, options) => {
    if (argv[1] !== 'backup') return exec(argv, options);
    return exec([argv[0]!, '--limit-upload', '1000', ...argv.slice(1)], {
      ...options,
      onStdout: (chunk) => {
        if (!chunk.includes('"status"')) return;
        void exec(['ip', 'netns', 'pids', ns.name]).then(async ({ stdout }) => {
          for (const pid of stdout.split('\n').filter(Boolean)) {
            const comm = (() => {
              try {
                return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
              } catch {
                return ''; // it ended since `ip netns pids` listed it
              }
            })();
            if (comm === 'restic') process.kill(Number(pid), 'SIGKILL');
          }
        });
      },
    });
  });
  await keeper.stop();
  await killing.start();
  const outcomes = await killing.backup('web');
  assert.ok(
    outcomes.every((o) => !o.ok),
    'both backups were cut off',
  );
  assert.equal(
    killing.report('web')!.list.map((c) => [c.station, c.snapshot]),
    before,
    'no snapshot counted',
  );
  // the agent comes back: a mount the dead one left is undone, the next run succeeds
  const left = join(stateDir, 'disk', 'stable', 'web', 'volumes', 'data');
  await exec(['mount', '--bind', '-o', 'ro', volume(), left]);
  keeper = keeperFor('s1', stateDir, driver, bus);
  await keeper.start();
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), left);
  const again = await keeper.backup('web');
  assert.equal(
    again.map((o) => o.ok),
    [true, true],
  );
  assert.equal(keeper.report('web')!.have, 2);
});

test('the stable path is unmounted after every run', async () => {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.not.match(mounts, join(stateDir, 'disk', 'stable'));
});

test.run();
