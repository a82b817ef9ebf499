// Infinite Disk's faults and bad input through real agents in the testbed (three stations of one
// owner over real Nebula, btrfs pools, restic and rclone). A node on s2 keeps 2 copies (s1, s3).
// - Bad input: bad copies/schedules are a 400 with the spec unchanged; a restore of a node copied
//   nowhere, or from a station that does not exist, is a clear 404/400 and makes nothing.
// - SIGKILL of s2's agent while its restic backs the node up (restic seen running as the agent's
//   child): nothing half-made is counted, the restarted agent's copies show only complete backups,
//   no stable-path mount is left, and the next backup succeeds (its data read back from the peer).
//   The station unit uses KillMode=process, so the orphaned restic runs on: what it does is
//   recorded. Then the same kill with restic killed too (a stale lock on the peers) does not block.
// - A wrong owner key on the restoring station: a clear error, nothing made, nothing overwritten.
// (SIGKILL mid-snapshot is tested in disk-snapshots-agent.test.ts.) Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder } from '../../agent/disk/copies/stable-path.ts';
import { exec } from '../../agent/exec.ts';
import { formMesh, restartStation, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { isAlive, stopAgent } from '../../scripts/testbed-lib/stations.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import {
  api,
  copiesOf,
  nodeExec,
  resticOnCopy,
  snapshotFiles,
  stationCli,
  storeRepository,
  waitFor,
  waitStoresUp,
  webNodeWithSet,
} from '../helpers/disk-testbed.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const PEERS = ['s1', 's3'];
const t = suite<{ tb: Testbed }>('disk: agent killed, bad input, wrong key');

const repoOn = (tb: Testbed, peer: string) => storeRepository(tb, peer, 's2', 'alice', 'web');
const copiesFile = (tb: Testbed) => JSON.parse(readFileSync(join(stationOf(tb, 's2').stateDir, 'disk', 'copies.json'), 'utf8')).nodes.web;
const stableRoot = (tb: Testbed) => join(stationOf(tb, 's2').stateDir, 'disk', 'stable');

/** The restic processes the agent runs now, with their argv. */
function resticChildren(agentPid: number): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const tid of readdirSync(`/proc/${agentPid}/task`)) {
    const children = readFileSync(`/proc/${agentPid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    for (const pid of children) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv[0]?.endsWith('restic')) out.push({ pid, argv });
    }
  }
  return out;
}

/** Starts a backup of a new set and SIGKILLs s2's agent once restic backs it up; returns the restic pids. */
async function killMidBackup(tb: Testbed, withRestic: boolean): Promise<{ orphans: number[]; killedAt: number }> {
  const set = await api(tb, 's2', 'POST', '/nodes/web/snapshots', undefined, 120);
  assert.is(set.status, 201, JSON.stringify(set.body));
  const agentPid = stationOf(tb, 's2').pid;
  void api(tb, 's2', 'POST', '/disk/backup/web', undefined, 600).catch(() => undefined); // cut off by the kill
  const backups = await waitFor(
    "restic backup running as the agent's child",
    async () => {
      const found = resticChildren(agentPid).filter((c) => c.argv.includes('backup'));
      return found.length ? found : false;
    },
    300_000,
    20,
  );
  process.kill(agentPid, 'SIGKILL');
  const killedAt = Date.now();
  if (withRestic) for (const b of backups) process.kill(b.pid, 'SIGKILL');
  await stopAgent(agentPid, 'SIGKILL'); // waits until it is gone
  return { orphans: backups.map((b) => b.pid), killedAt };
}

/** Follows a process's signals and end with strace (for the report: how an orphaned restic ends); returns the reader of its last lines. */
async function traceEnd(tb: Testbed, pid: number): Promise<() => Promise<string>> {
  if ((await exec(['which', 'strace'], { allowFailure: true })).exitCode !== 0) return async () => 'strace not installed';
  const file = join(stationOf(tb, 's2').stateDir, `orphan-${pid}.strace`);
  const child = spawn('strace', ['-p', String(pid), '-e', 'trace=none', '-o', file], { stdio: 'ignore' });
  onCleanup(`strace of ${pid}`, () => child.exitCode === null && child.kill('SIGKILL'));
  return async () => {
    await waitFor('strace to end with its process', async () => child.exitCode !== null || child.signalCode !== null, 10_000).catch(() =>
      child.kill('SIGKILL'),
    );
    return (existsSync(file) ? readFileSync(file, 'utf8') : '').trim().split('\n').slice(-3).join(' | ') || 'nothing traced';
  };
}

async function writeRandom(tb: Testbed, file: string, mib: number): Promise<string> {
  const r = await nodeExec(tb, 's2', 'web', [
    'sh',
    '-c',
    `dd if=/dev/urandom of=/srv/${file} bs=1M count=${mib} 2>/dev/null && sync && sha256sum /srv/${file}`,
  ]);
  assert.is(r.exitCode, 0, r.stderr);
  return r.stdout.split(' ')[0]!;
}

/** Every copy the agent reports holds a snapshot that is whole on its peer (restic lists it and check passes). */
async function assertOnlyCompleteCounted(tb: Testbed): Promise<void> {
  const copies = await copiesOf(tb, 's2', 'web');
  assert.ok(copies);
  for (const c of copies!.list) {
    if (!c.snapshot) continue;
    const files = await snapshotFiles(repoOn(tb, c.station));
    assert.ok(
      files.some((f) => f.startsWith(c.snapshot!)),
      `${c.station}: the counted snapshot ${c.snapshot} is on the peer`,
    );
  }
}

/**
 * Stable-path mounts left: in the machine's mount namespace (where the station's agent runs under
 * systemd) and in the restarted agent's. Under `ip netns exec` each testbed agent has a mount
 * namespace of its own; a killed agent's lives on while a process it started does (the node's LXC
 * monitor, an orphaned restic): those are listed apart, with their holder, for the report.
 */
async function stableMounts(tb: Testbed): Promise<{ here: string[]; elsewhere: string[] }> {
  const agentPid = stationOf(tb, 's2').pid;
  const here = [
    ...mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), stableRoot(tb)),
    ...mountsUnder(readFileSync(`/proc/${agentPid}/mountinfo`, 'utf8'), stableRoot(tb)).map((p) => `${p} (the agent's namespace)`),
  ];
  const elsewhere: string[] = [];
  const pids = (await exec(['ip', 'netns', 'pids', stationOf(tb, 's2').netns], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      const points = mountsUnder(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'), stableRoot(tb));
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (points.length) elsewhere.push(`${points.join(', ')} held by pid ${pid} (${cmd})`);
    } catch {
      /* gone meanwhile */
    }
  }
  return { here, elsewhere };
}

async function assertNoStableMount(tb: Testbed): Promise<void> {
  const { here, elsewhere } = await stableMounts(tb);
  assert.equal(here, [], 'no stable-path mount left where agents run');
  if (elsewhere.length) console.log(`  in a dead agent's own mount namespace (ip netns exec): ${elsewhere.join('; ')}`);
  assert.not.ok(
    elsewhere.some((e) => / restic /.test(e)),
    'no restic holds one',
  );
}

/** Waits until both copies hold a backup newer than `after`, asking for one. Returns the copies. */
async function nextBackupSucceeds(tb: Testbed, after: number) {
  const r = await api(tb, 's2', 'POST', '/disk/backup/web', undefined, 600);
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.ok(
    r.body.copies.every((c: { ok: boolean }) => c.ok),
    JSON.stringify(r.body),
  );
  return waitFor(
    'both copies current after the restart',
    async () => {
      const c = await copiesOf(tb, 's2', 'web');
      return c?.state === 'ok' && c.have === 2 && c.list.every((x) => x.lastSuccess && Date.parse(x.lastSuccess) > after) ? c : false;
    },
    120_000,
    1000,
  );
}

t.before(async (ctx) => {
  ctx.tb = await upForThisRun({ stations: 3, publicStations: 1, storage: 'btrfs', poolMb: 768, env: { STATION_DISK_OFFER_GB: '2' } });
  await formMesh(ctx.tb, 'alice');
  await waitStoresUp(ctx.tb, ['s1', 's2', 's3']);
  await webNodeWithSet(ctx.tb, 's2', { snapshotSeconds: 0, backupSeconds: 3600, copies: 2 }, 'first', 64);
  await waitFor(
    'the first backup on s1 and s3',
    async () => {
      const r = await api(ctx.tb, 's2', 'POST', '/disk/backup/web', undefined, 600);
      const c = await copiesOf(ctx.tb, 's2', 'web');
      return r.status === 200 && c?.state === 'ok' && c.have === 2 ? c : false;
    },
    300_000,
    2000,
  );
});
t.after(async () => {
  await cleanupAll();
});

t('bad copies and schedules are a 400 with the spec unchanged; restores of what is nowhere are clear 4xx and make nothing', async ({ tb }) => {
  const before = (await api(tb, 's2', 'GET', '/nodes/web')).body.spec.disk;
  for (const disk of [{ copies: -1 }, { copies: 9 }, { backupSeconds: 'x' }, { snapshotSeconds: -1 }]) {
    const patched = await api(tb, 's2', 'PATCH', '/nodes/web', { disk });
    assert.is(patched.status, 400, `PATCH ${JSON.stringify(disk)}: ${JSON.stringify(patched.body)}`);
    assert.ok(patched.body.error?.message, 'the 400 says why');
    const made = await api(tb, 's2', 'POST', '/nodes', { name: 'bad', volumes: [{ name: 'data', path: '/srv' }], disk });
    assert.is(made.status, 400, `POST ${JSON.stringify(disk)}: ${JSON.stringify(made.body)}`);
  }
  assert.equal((await api(tb, 's2', 'GET', '/nodes/web')).body.spec.disk, before, 'the spec is unchanged');
  assert.is((await api(tb, 's2', 'GET', '/nodes/bad')).status, 404, 'no node made');

  const ghost = await api(tb, 's1', 'POST', '/disk/restore', { node: 'ghost' }, 300);
  assert.is(ghost.status, 404, JSON.stringify(ghost.body));
  assert.is(ghost.body.error.code, 'COPY_NOT_FOUND');
  assert.match(ghost.body.error.message, /no reachable peer holds a copy of node ghost/);
  const cli = await stationCli(tb, 's1', 'disk', 'restore', 'web', '--from', 's9');
  assert.is.not(cli.exitCode, 0);
  assert.match(cli.stderr + cli.stdout, /s9 is not an online station of this owner/);
  const bad = await api(tb, 's1', 'POST', '/disk/restore', { node: 'web', from: 'S9!' });
  assert.is(bad.status, 400, JSON.stringify(bad.body));
  assert.is(bad.body.error.code, 'INVALID_STATION_NAME');
  for (const node of ['ghost', 'web']) assert.is((await api(tb, 's1', 'GET', `/nodes/${node}`)).status, 404, `no node ${node} on s1`);
  assert.not.ok(existsSync(join(stationOf(tb, 's1').stateDir, 'storage', 'pool', 'volumes', 'web')), 'no volume made on s1');
});

t('SIGKILL of the agent mid-backup: nothing half-made counted, no mount left, the next backup succeeds', async ({ tb }) => {
  const counted = copiesFile(tb).map((c: { station: string; lastSnapshot: string }) => [c.station, c.lastSnapshot]);
  const filesBefore = await Promise.all(PEERS.map((p) => snapshotFiles(repoOn(tb, p))));
  const sum = await writeRandom(tb, 'big', 96);
  const { orphans, killedAt } = await killMidBackup(tb, false);
  const alive = orphans.filter(isAlive);
  assert.ok(alive.length > 0, 'restic was still at work when the agent died (the kill landed mid-backup)');
  const traced = await traceEnd(tb, alive[0]!);
  // the durable state counts what was there before; the peers hold no new snapshot yet
  assert.equal(
    copiesFile(tb).map((c: { station: string; lastSnapshot: string }) => [c.station, c.lastSnapshot]),
    counted,
  );
  const filesAtKill = await Promise.all(PEERS.map((p) => snapshotFiles(repoOn(tb, p))));
  console.log(`  at the kill: snapshots on s1/s3 ${filesBefore.map((f) => f.length).join('/')} -> ${filesAtKill.map((f) => f.length).join('/')}`);

  await restartStation(tb, 's2');
  const restartAt = Date.now();
  await assertOnlyCompleteCounted(tb);
  // the orphaned restic (KillMode=process leaves it running): wait for it, and record what it did
  await waitFor('the orphaned restic to end', async () => !orphans.some(isAlive), 360_000, 500).catch(() => {
    for (const pid of orphans.filter(isAlive)) process.kill(pid, 'SIGKILL');
    console.log('  the orphaned restic was still running after 6 min: ended by the test');
  });
  const filesAfterOrphan = await Promise.all(PEERS.map((p) => snapshotFiles(repoOn(tb, p))));
  console.log(`  how the orphan ended (strace): ${await traced()}`);
  const locks = PEERS.map((p) => readdirSync(join(repoOn(tb, p), 'locks')).length);
  console.log(
    `  the orphan ended ${((Date.now() - killedAt) / 1000).toFixed(0)} s after the kill; snapshots on s1/s3 now ` +
      `${filesAfterOrphan.map((f) => f.length).join('/')}, lock files ${locks.join('/')}`,
  );
  await assertOnlyCompleteCounted(tb);

  const copies = await nextBackupSucceeds(tb, restartAt);
  assert.ok(
    copies.list.every((c) => !counted.some(([, s]: [string, string]) => s === c.snapshot)),
    'a new snapshot is counted',
  );
  await assertOnlyCompleteCounted(tb);
  await assertNoStableMount(tb);
  // each peer's repository is whole, and the counted snapshot holds the data written before the kill
  for (const c of copies.list) {
    const r = await resticOnCopy(
      tb,
      's2',
      repoOn(tb, c.station),
      `restic --no-cache check --read-data && restic --no-cache dump ${c.snapshot} /volumes/data/big | sha256sum`,
    );
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, sum, `${c.station}: the data of the next backup reads back`);
  }
});

t('SIGKILL of the agent and its restic mid-backup: the stale lock on the peers does not block the next backup', async ({ tb }) => {
  await writeRandom(tb, 'big2', 64);
  const { orphans } = await killMidBackup(tb, true);
  await waitFor('the killed restic reaped', async () => !orphans.some(isAlive), 30_000);
  const locks = PEERS.map((p) => readdirSync(join(repoOn(tb, p), 'locks')).length);
  console.log(`  stale lock files left on s1/s3: ${locks.join('/')}`);
  assert.ok(
    locks.some((n) => n > 0),
    'the killed restic left its lock',
  );
  await restartStation(tb, 's2');
  const restartAt = Date.now();
  await assertOnlyCompleteCounted(tb);
  await nextBackupSucceeds(tb, restartAt);
  await assertOnlyCompleteCounted(tb);
  await assertNoStableMount(tb);
});

t('a wrong owner key on the restoring station: a clear error, no node or volume made, nothing overwritten', async ({ tb }) => {
  const s1 = stationOf(tb, 's1');
  const keyFile = join(s1.stateDir, 'disk', 'owner.key');
  const key = readFileSync(keyFile, 'utf8');
  const listing = async () => (await exec(['find', repoOn(tb, 's3'), '-path', '*/locks', '-prune', '-o', '-type', 'f', '-printf', '%P %s %T@\n'])).stdout;
  const before = await listing();
  // s1 is the owner's authority: no directory sync hands it the right key back meanwhile
  writeFileSync(keyFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  try {
    const r = await api(tb, 's1', 'POST', '/disk/restore', { node: 'web' }, 300);
    assert.is(r.status, 409, JSON.stringify(r.body));
    assert.is(r.body.error.code, 'COPY_WRONG_KEY');
    assert.match(r.body.error.message, /copies of node web are held \(s3\/web\) but this station's owner key opens none of them/);
    console.log(`  wrong key: ${r.status} ${r.body.error.code}: ${r.body.error.message}`);
  } finally {
    writeFileSync(keyFile, key, { mode: 0o600 });
  }
  assert.is((await api(tb, 's1', 'GET', '/nodes/web')).status, 404, 'no node made');
  assert.not.ok(existsSync(join(s1.stateDir, 'storage', 'pool', 'volumes', 'web')), 'no volume made');
  assert.is(await listing(), before, "nothing of s2's repository on s3 changed");
});

t.run();
