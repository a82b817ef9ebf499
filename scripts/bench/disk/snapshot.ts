// Part 2: a crash-consistent snapshot set of a node's three volumes while a writer in the node keeps
// writing to all three, taken by the agent's own NodeSnapshots (agent/disk/snapshots): sync outside
// the freeze, freeze through the node's cgroup v2, the three read-only snapshots in parallel, thaw.
// Figures: how long the node stood frozen and the whole set, against the same set taken with the
// node treated as stopped (no freeze: what the freeze adds), alternating within each round.
import { exec } from '../../../agent/exec.ts';
import { createLogger } from '../../../agent/log.ts';
import { netnsRunner } from '../../../agent/nodes/lxc/netns-runner.ts';
import { NodeSnapshots } from '../../../agent/disk/snapshots/node-snapshots.ts';
import { join } from 'node:path';
import { type Bench, envNumber, log } from './context.ts';

export const SNAPSHOT_VOLUMES = ['v1', 'v2', 'v3'];

// writes a 1 MiB file to each volume in turn, each made durable: dirty data is always in flight
export const WRITER = 'while :; do for v in v1 v2 v3; do dd if=/dev/urandom of=/$v/w bs=64k count=16 conv=fsync 2>/dev/null; done; done';

export interface SnapshotRound {
  frozenMs: number;
  totalMs: number;
  /** baseline: the same set with no freeze (the node left running: not crash-consistent) */
  unfrozenTotalMs: number;
}

/** The pid of the node's init, as the host sees it. */
export async function nodePid(bench: Bench, node: string): Promise<number> {
  const info = await netnsRunner(bench.ns)(['lxc-info', '-P', bench.lxcPath, '-n', node, '-p', '-H']);
  const pid = Number(info.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`lxc-info gave no pid for ${node}: ${info.stdout}`);
  return pid;
}

/** The agent's snapshot sets, kept in the run's directory (the agent's disk part is off in this run). */
export const nodeSnapshots = (bench: Bench): NodeSnapshots =>
  new NodeSnapshots({ driver: bench.driver, run: exec, stateDir: join(bench.dir, 'disk-state'), log: createLogger('silent', false) });

export async function measureSnapshots(bench: Bench, node: string): Promise<SnapshotRound[]> {
  const rounds = envNumber('BENCH_SNAPSHOT_ROUNDS', 9);
  const snapshots = nodeSnapshots(bench);
  const pid = await nodePid(bench, node);
  const results: SnapshotRound[] = [];
  const settle = () => new Promise((r) => setTimeout(r, 300)); // the writer dirties new data meanwhile
  for (let round = 0; round < rounds; round++) {
    const plain = await snapshots.create({ name: node, running: false, pid: null }, 'manual');
    await snapshots.delete(node, plain.name);
    await settle();
    const set = await snapshots.create({ name: node, running: true, pid }, 'manual');
    if (!set.frozen) throw new Error(`the set ${set.name} of ${node} was taken without freezing the node`);
    await snapshots.delete(node, set.name);
    await settle();
    results.push({ frozenMs: set.freezeMs, totalMs: set.totalMs, unfrozenTotalMs: plain.totalMs });
    log(`snapshot round ${round + 1}: frozen ${set.freezeMs} ms, set ${set.totalMs} ms; unfrozen baseline ${plain.totalMs} ms`);
  }
  return results;
}
