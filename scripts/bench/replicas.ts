// Benchmark: replicas (issue 14), the engine layer built so far (docs/replicas.md), each figure
// against a baseline measured in the same run:
//  1. hot copy (agent/replicas/stream) between two real btrfs pools: a volume of 64 MiB sent whole
//     and received (sendNewest to a ReplicaReceiver) against `cp --reflink=never` of the same files;
//     then an increment after 1 MiB changed, against the whole send (time and bytes);
//  2. lease failover (agent/replicas/lease) on three real etcd 3.4 members, TTL 5 s, margin 2 s,
//     raft timings of replicas-lease: how long until an ActiveWatch-following contender holds the
//     lease after the holder's station loses power (its member the etcd leader, or a follower), or
//     is cut off while it runs (then also when it fenced itself), against the TTL and etcd's own
//     election time;
//  3. the real testbed of three agents (replicas/testbed.ts): a power loss (simulated by a cut off
//     the mesh) until a third station's resolver answers the node's alias from the new Active, the
//     RPO read from a counter the node writes every 100 ms, a planned move's downtime, and an
//     increment over the mesh against a local `btrfs send | btrfs receive` of the same increment.
// This process re-runs itself inside a network namespace it makes (the hub); the etcd members run
// in namespaces of their own routed through it, on 198.18.71.0/24. Everything carries the run
// prefix stbrXXXX (namespaces, veths, the nftables table in the hub, the run directory with the
// etcd data and the pool files, the pools' labels) and is removed at the end, also on failure or
// Ctrl-C (the outer process also sweeps by the prefix what a crashed or killed benchmark process
// left); nothing is added to the machine's own namespace. Figures are medians (min–max) over the rounds.
// The testbed's names carry the same prefix (namespaces stbrXXXX-*, /run/station-testbed/stbrXXXX).
//   node scripts/bench/replicas.ts [ROUNDS]   (or BENCH_ROUNDS; default 5: parts 1 and 2 take about 2 minutes
//     on the 2-core machine, part 3 another 3.5 to 6 with the machine's load)
//     BENCH_DATA_MB=64 BENCH_CHANGED_MB=1 (the hot copy's sizes); BENCH_ENGINE=0 skips parts 1 and 2
//     BENCH_TESTBED=0 skips part 3; BENCH_LEASE_SECONDS=10 (the agent's default TTL) BENCH_SNAPSHOT_SECONDS=5
//     BENCH_INCREMENT_MB=32 (part 3's settings)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../../agent/exec.ts';
import { raftTimings } from '../../agent/replicas/lease/etcd-member.ts';
import { FencingTokens } from '../../agent/replicas/stream/fencing-tokens.ts';
import { ReplicaReceiver } from '../../agent/replicas/stream/replica-stream.ts';
import { BtrfsVolumeDriver } from '../../agent/storage/btrfs-driver.ts';
import { LoopPool } from '../../agent/storage/pool.ts';
import { removeNetns } from '../lib/netns.ts';
import { envNumber, log, MiB } from './disk/context.ts';
import { cleanupSteps, loadAverage } from './lib/cleanup.ts';
import { runBench } from './lib/run.ts';
import { STATIONS, startCluster } from './replicas/cluster.ts';
import { type FailoverRound, failoverRound, type LeaseSettings, SCENARIOS } from './replicas/failover.ts';
import { type CopyPools, type CopyRound, copyRound } from './replicas/hot-copy.ts';
import { roundsFrom, summary, table } from './replicas/report.ts';
import { sweepTestbed, testbedPart } from './replicas/testbed.ts';
import { testbedRows, testbedSummary } from './replicas/testbed-report.ts';
import { alignedTable } from './lib/table.ts';

/** set in the re-run process: the hub namespace it runs in, whose name is the run prefix */
const INNER = 'STATION_BENCH_REPLICAS_NETNS';
const LEASE: LeaseSettings = { ttlSeconds: 5, marginMs: 2000 }; // as replicas-lease
const TIMINGS = raftTimings(1); // heartbeat 100 ms, election 1 s, as replicas-lease

const cleanup = cleanupSteps(log);
const onCleanup = (what: string, run: () => Promise<void>) => cleanup.add({ what, run });
const tearDown = cleanup.tearDown;

const POOLS = ['a', 'b'];

/** Unmounts a pool (lazily when something still holds it) and detaches its loop devices, found by the pool file. */
async function removePool(file: string, mountPoint: string): Promise<void> {
  if ((await exec(['umount', mountPoint], { allowFailure: true })).exitCode !== 0) await exec(['umount', '-l', mountPoint], { allowFailure: true });
  const listed = await exec(['losetup', '-j', file], { allowFailure: true });
  for (const line of listed.stdout.split('\n').filter(Boolean)) await exec(['losetup', '-d', line.split(':')[0]!], { allowFailure: true });
}

/**
 * What the benchmark process removes itself, removed again by its name in case it could not (it
 * crashed or was killed): the testbed (its nodes, agents, namespaces, pools), the members'
 * namespaces (their etcd processes with them), the pools, the run directory. After a clean run
 * there is nothing left to find.
 */
async function sweep(prefix: string): Promise<void> {
  await sweepTestbed(prefix).catch((error: Error) => process.stderr.write(`bench replicas: sweeping the testbed: ${error.message}\n`));
  for (const i of STATIONS.keys()) await removeNetns(`${prefix}e${i}`);
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith(`${prefix}-`)) continue;
    const dir = join(tmpdir(), entry);
    for (const name of POOLS) await removePool(join(dir, `${name}.img`), join(dir, name));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The outer process: makes the hub namespace, runs the benchmark inside it, removes everything after. */
async function outer(): Promise<never> {
  let rounds: number;
  try {
    rounds = roundsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`bench replicas: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const hub = `stbr${randomBytes(2).toString('hex')}`;
  // the benchmark runs in a process group of its own: Ctrl-C reaches this process only, which passes
  // it on once, as SIGINT whatever came (the benchmark's tear-down follows SIGINT)
  let child: ChildProcess | undefined;
  let interrupted = false;
  const pass = () => {
    if (!interrupted) child?.kill('SIGINT');
    interrupted = true;
  };
  process.on('SIGINT', pass);
  process.on('SIGTERM', pass);
  let code = 130;
  try {
    await exec(['ip', 'netns', 'add', hub]);
    await exec(['ip', '-n', hub, 'link', 'set', 'lo', 'up']);
    if (!interrupted) {
      const running = spawn('nsenter', [`--net=/run/netns/${hub}`, process.execPath, fileURLToPath(import.meta.url)], {
        stdio: 'inherit',
        detached: true,
        env: { ...process.env, [INNER]: hub, BENCH_ROUNDS: String(rounds) },
      });
      child = running;
      code = await new Promise<number>((resolve) => {
        running.once('error', (error) => {
          process.stderr.write(`bench replicas: ${error.message}\n`);
          resolve(1);
        });
        running.once('exit', (c, signal) => resolve(c ?? 128 + (signal ? constants.signals[signal] : 0)));
      });
    }
  } finally {
    await sweep(hub);
    await removeNetns(hub);
  }
  process.exit(code);
}

async function pool(dir: string, prefix: string, name: string, sizeBytes: number) {
  const p = new LoopPool({ file: join(dir, `${name}.img`), mountPoint: join(dir, name), sizeBytes, label: `${prefix}-${name}` });
  onCleanup(`pool ${name}`, () => removePool(p.file, p.mountPoint));
  await p.ensure();
  const driver = new BtrfsVolumeDriver({ root: join(p.mountPoint, 'volumes') });
  await driver.prepare();
  return { driver, mountPoint: p.mountPoint };
}

/** Parts 1 and 2: the engine layer on two loop pools and three etcd members of this benchmark's own. */
async function enginePart(prefix: string, hub: string, rounds: number) {
  const dataBytes = Math.round(envNumber('BENCH_DATA_MB', 64) * MiB);
  const changedBytes = Math.round(envNumber('BENCH_CHANGED_MB', 1) * MiB);
  const loadBefore = loadAverage();
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  onCleanup('run directory', () => rm(dir, { recursive: true, force: true }));

  // sparse pool files; room for the volume and its two snapshots (a), the replica and the cp (b)
  const poolBytes = Math.max(512 * MiB, 4 * dataBytes);
  const [a, b] = [await pool(dir, prefix, POOLS[0]!, poolBytes), await pool(dir, prefix, POOLS[1]!, poolBytes)];
  const receiver = new ReplicaReceiver(b.driver, new FencingTokens(join(dir, 'state-b')));
  const target = { station: 's2', snapshots: receiver.snapshots.bind(receiver), receive: receiver.receive.bind(receiver) };
  const pools: CopyPools = { a, b: { ...b, target } };
  const copies: CopyRound[] = [];
  for (let r = 0; r < rounds; r++) {
    const c = await copyRound(pools, r, { dataBytes, changedBytes });
    copies.push(c);
    log(
      `copy round ${r + 1}: whole ${(c.whole.ms / 1000).toFixed(2)} s ${c.whole.bytes} bytes (cp ${(c.cp.ms / 1000).toFixed(2)} s); ` +
        `increment ${(c.increment.ms / 1000).toFixed(2)} s ${c.increment.bytes} bytes`,
    );
  }

  const cluster = await startCluster({ prefix, hub, dir, timings: TIMINGS, onCleanup });
  const failover: FailoverRound[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const scenario of SCENARIOS) {
      const f = await failoverRound(cluster, scenario, LEASE);
      failover.push(f);
      const extra = [
        f.electionMs === null ? '' : `, new etcd leader at ${(f.electionMs / 1000).toFixed(2)} s`,
        f.fencedMs === null ? '' : `, ${f.a} fenced at ${(f.fencedMs / 1000).toFixed(2)} s, ${f.twoHolders} probes saw two holders`,
      ].join('');
      log(
        `failover round ${r + 1}, ${scenario}: ${f.a} lost at 0, ${f.b}'s watch saw the key go at ${(f.keyGoneMs / 1000).toFixed(2)} s, ` +
          `${f.b} held the lease at ${(f.takeoverMs / 1000).toFixed(2)} s (token ${f.oldToken} -> ${f.newToken})${extra}`,
      );
    }
  }

  const settings = {
    rounds,
    ...LEASE,
    heartbeatMs: TIMINGS.heartbeatMs,
    electionTimeoutMs: TIMINGS.electionMs,
    dataBytes,
    changedBytes,
  };
  return summary(failover, copies, settings, `${loadBefore} (start), ${loadAverage()} (end)`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const hub = process.env[INNER]!;
  if (!/^stbr[0-9a-f]{4}$/.test(hub)) throw new Error(`${INNER}=${hub}: not a namespace this benchmark made`);
  // nothing below may run in the machine's own namespace
  const [here, made] = [statSync('/proc/self/ns/net'), statSync(`/run/netns/${hub}`)];
  if (here.ino !== made.ino || here.dev !== made.dev) throw new Error(`not inside the namespace ${hub}`);
  const prefix = hub;
  const rounds = roundsFrom([], process.env);
  const engine = process.env.BENCH_ENGINE === '0' ? null : await enginePart(prefix, hub, rounds);
  if (engine) process.stdout.write(`${table(engine)}\n`);
  // the engine part's members and pools go before the testbed starts: their etcd would compete for the two cores
  await tearDown();
  let testbed: ReturnType<typeof testbedSummary> | null = null;
  if (process.env.BENCH_TESTBED !== '0') {
    const loadBefore = loadAverage();
    const settings = {
      rounds,
      // whole seconds, as the agent's settings take them
      leaseSeconds: Math.max(3, Math.round(envNumber('BENCH_LEASE_SECONDS', 10))),
      snapshotSeconds: Math.max(1, Math.round(envNumber('BENCH_SNAPSHOT_SECONDS', 5))),
      incrementBytes: Math.round(envNumber('BENCH_INCREMENT_MB', 32)) * MiB,
    };
    const measured = await testbedPart({ prefix, settings, onCleanup, log });
    testbed = testbedSummary(measured, `${loadBefore} (start), ${loadAverage()} (end)`);
  }
  const out: string[] = [];
  if (testbed) {
    const { rows, notes } = testbedRows(testbed);
    out.push(alignedTable([['measure', 'median (min–max)', 'baseline (same run)', 'ratio', 'goal', 'met'], ...rows]), ...notes);
  }
  const loads = [...(engine ? [engine.loadAverage] : []), ...(testbed ? [`testbed ${testbed.loadAverage}`] : [])];
  out.push(`load average: ${loads.join('; ')}`);
  out.push(`${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ ...(engine ?? { bench: 'replicas', rounds }), ...(testbed ? { testbed } : {}) })}\n`);
}

if (process.env[INNER]) await runBench('bench replicas', main, tearDown);
else await outer();
