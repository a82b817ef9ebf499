// Part 2: a crash-consistent snapshot of a node's three volumes while a writer in the node keeps
// writing to all three: how long the node stands frozen, and the whole snapshot (a `btrfs filesystem
// sync` first, outside the freeze, so the frozen window has little left to flush; then freeze, the
// three read-only snapshots in parallel, thaw). Measured with the benchmark's own minimal freeze
// (freeze.ts) and the storage driver's createSnapshot: agent/disk/snapshots did not exist yet.
import { readFile } from 'node:fs/promises';
import { exec } from '../../../agent/exec.ts';
import { netnsRunner } from '../../../agent/nodes/lxc/netns-runner.ts';
import { type Bench, envNumber, log } from './context.ts';
import { whileFrozen } from './freeze.ts';
import { payloadCgroupDir } from './parse.ts';

export const SNAPSHOT_VOLUMES = ['v1', 'v2', 'v3'];

// writes a 1 MiB file to each volume in turn, each made durable: dirty data is always in flight
export const WRITER = 'while :; do for v in v1 v2 v3; do dd if=/dev/urandom of=/$v/w bs=64k count=16 conv=fsync 2>/dev/null; done; done';

export interface SnapshotRound {
  frozenMs: number;
  freezeWaitMs: number;
  totalMs: number;
  /** baseline: the same sync + three snapshots with the node left running (not crash-consistent) */
  unfrozenTotalMs: number;
}

/** The node's cgroup v2 directory, from its init process. */
export async function nodeCgroupDir(bench: Bench, node: string): Promise<string> {
  const info = await netnsRunner(bench.ns)(['lxc-info', '-P', bench.lxcPath, '-n', node, '-p', '-H']);
  const pid = Number(info.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`lxc-info gave no pid for ${node}: ${info.stdout}`);
  return payloadCgroupDir(await readFile(`/proc/${pid}/cgroup`, 'utf8'), await readFile('/proc/self/mounts', 'utf8'));
}

export async function measureSnapshots(bench: Bench, node: string): Promise<SnapshotRound[]> {
  const rounds = envNumber('BENCH_SNAPSHOT_ROUNDS', 9);
  const cgroup = await nodeCgroupDir(bench, node);
  const refs = SNAPSHOT_VOLUMES.map((volume) => ({ node, volume }));
  const results: SnapshotRound[] = [];
  const snapshotAll = (name: string) => Promise.all(refs.map((ref) => bench.driver.createSnapshot(ref, name)));
  const removeAll = async (name: string) => {
    for (const ref of refs) await bench.driver.deleteSnapshot(ref, name);
    // let the writer dirty new data before the next snapshot
    await new Promise((r) => setTimeout(r, 300));
  };
  for (let round = 0; round < rounds; round++) {
    const plain = `${bench.prefix}-u${round}`;
    let start = performance.now();
    await exec(['btrfs', 'filesystem', 'sync', bench.poolMount]);
    await snapshotAll(plain);
    const unfrozenTotalMs = performance.now() - start;
    await removeAll(plain);

    const name = `${bench.prefix}-s${round}`;
    start = performance.now();
    await exec(['btrfs', 'filesystem', 'sync', bench.poolMount]);
    const window = await whileFrozen(cgroup, () => snapshotAll(name));
    const totalMs = performance.now() - start;
    results.push({ frozenMs: window.frozenMs, freezeWaitMs: window.freezeWaitMs, totalMs, unfrozenTotalMs });
    log(
      `snapshot round ${round + 1}: frozen ${window.frozenMs.toFixed(1)} ms (freeze took ${window.freezeWaitMs.toFixed(2)} ms), ` +
        `total ${totalMs.toFixed(1)} ms; unfrozen baseline ${unfrozenTotalMs.toFixed(1)} ms`,
    );
    await removeAll(name);
  }
  return results;
}
