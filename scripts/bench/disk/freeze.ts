// The benchmark's own minimal node freeze (used until agent/disk/snapshots lands): write 1 to the
// container's cgroup v2 cgroup.freeze and wait until cgroup.events says `frozen 1`; thaw the same
// way. cgroup v2 is used even on this hybrid host (measured: ~0.3 ms against ~31 ms for the v1
// freezer that lxc-freeze takes here). Busy-reading cgroup.events is fine for a wait of milliseconds;
// a freeze that does not complete within the limit is an error (and the node is thawed again).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFrozen } from './parse.ts';

const LIMIT_MS = 5_000;

function setFrozen(dir: string, frozen: boolean): void {
  writeFileSync(join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
  const start = performance.now();
  while (isFrozen(readFileSync(join(dir, 'cgroup.events'), 'utf8')) !== frozen) {
    if (performance.now() - start > LIMIT_MS) {
      if (frozen) writeFileSync(join(dir, 'cgroup.freeze'), '0');
      throw new Error(`${dir} did not ${frozen ? 'freeze' : 'thaw'} within ${LIMIT_MS} ms`);
    }
  }
}

export interface FrozenWindow<T> {
  result: T;
  /** from the freeze request until the node runs again */
  frozenMs: number;
  /** until cgroup.events said frozen */
  freezeWaitMs: number;
}

/** Runs `work` with the node frozen; the node is thawed even when `work` fails. */
export async function whileFrozen<T>(cgroupDir: string, work: () => Promise<T>): Promise<FrozenWindow<T>> {
  const start = performance.now();
  setFrozen(cgroupDir, true);
  const freezeWaitMs = performance.now() - start;
  try {
    const result = await work();
    setFrozen(cgroupDir, false);
    return { result, frozenMs: performance.now() - start, freezeWaitMs };
  } catch (error) {
    writeFileSync(join(cgroupDir, 'cgroup.freeze'), '0');
    throw error;
  }
}
