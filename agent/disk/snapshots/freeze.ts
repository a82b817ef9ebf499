// Freezing a running node for the instant its volumes are snapshotted. A snapshot covers one btrfs
// subvolume; a node with several volumes is only crash-consistent across them if nothing in it runs
// between the first snapshot and the last, so its processes are frozen through its cgroup.
//
// Where the cgroup is: LXC puts a container in `lxc.payload.NAME` in every hierarchy. On this host's
// hybrid layout cgroup2 is mounted at /sys/fs/cgroup/unified (found from /proc/self/mounts, never
// hard-coded) and the container's v2 cgroup there has cgroup.freeze; the v1 freezer is the fallback
// (measured: v2 freezes in 0.3-2 ms, the v1 freezer in ~31 ms). Waiting is on the kernel's own signal:
// cgroup.events `frozen 1` (its change is an inotify modify event), or freezer.state `FROZEN`.
//
// A frozen node must never stay frozen: thaw runs in `finally`, and a marker written before the
// freeze lets the next agent start thaw a node whose agent was killed while it was frozen.
import { watch } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../../errors.ts';
import { parseMounts, type MountEntry } from '../../../hardware/parsers/mounts.ts';
import { containerCgroupPath, parseProcCgroup, type ProcCgroupLine } from '../../nodes/lxc/cgroup-stats.ts';

export interface NodeCgroup {
  /** v2: cgroup.freeze + cgroup.events; v1: freezer.state */
  kind: 'v2' | 'v1';
  dir: string;
}

/** cgroup.events: "populated 1\nfrozen 0\n". */
export function parseCgroupEvents(text: string): { populated: boolean; frozen: boolean } {
  const value = (key: string) => new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] === '1';
  return { populated: value('populated'), frozen: value('frozen') };
}

/** Pure: the container's cgroup directories that can freeze it, the v2 one first. */
export function freezerCandidates(mounts: MountEntry[], procCgroup: ProcCgroupLine[]): NodeCgroup[] {
  const out: NodeCgroup[] = [];
  const v2Mount = mounts.find((m) => m.type === 'cgroup2')?.target;
  const unified = procCgroup.find((l) => l.id === '0' && l.controllers.length === 0);
  if (v2Mount && unified) out.push({ kind: 'v2', dir: join(v2Mount, containerCgroupPath(unified.path)) });
  const v1Mount = mounts.find((m) => m.type === 'cgroup' && m.options.includes('freezer'))?.target;
  const v1 = procCgroup.find((l) => l.controllers.includes('freezer'));
  if (v1Mount && v1) out.push({ kind: 'v1', dir: join(v1Mount, containerCgroupPath(v1.path)) });
  return out;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The cgroup that freezes the container whose init is `pid` (as the host sees it). */
export async function nodeCgroup(pid: number): Promise<NodeCgroup> {
  const [mounts, procCgroup] = await Promise.all([readFile('/proc/self/mounts', 'utf8'), readFile(`/proc/${pid}/cgroup`, 'utf8')]);
  for (const candidate of freezerCandidates(parseMounts(mounts), parseProcCgroup(procCgroup))) {
    if (await exists(join(candidate.dir, candidate.kind === 'v2' ? 'cgroup.freeze' : 'freezer.state'))) return candidate;
  }
  throw new UnavailableError('NODE_CGROUP_FREEZER_MISSING', `no cgroup of process ${pid} can freeze it (no cgroup.freeze in cgroup2, no v1 freezer)`);
}

export async function isFrozen(cgroup: NodeCgroup): Promise<boolean> {
  if (cgroup.kind === 'v2') return (await readFile(join(cgroup.dir, 'cgroup.freeze'), 'utf8')).trim() === '1';
  return (await readFile(join(cgroup.dir, 'freezer.state'), 'utf8')).trim() !== 'THAWED';
}

const FREEZE_TIMEOUT_MS = 10_000;
// the longest a node stands still for a snapshot set (the goal is 50 ms; the bound is for stalls)
export const MAX_FROZEN_MS = 2000;

/** Waits until `done()` reads true, re-reading on every change the kernel reports for `file` (and
 * at least every `recheckMs`: v1's freezer.state reports none). */
async function settle(file: string, done: () => Promise<boolean>, recheckMs: number, timeoutMs: number): Promise<boolean> {
  let wake: () => void = () => undefined;
  const watcher = watch(file, { persistent: false }, () => wake());
  watcher.on('error', () => undefined);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await done()) return true;
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, recheckMs);
      });
    }
  } finally {
    watcher.close();
  }
}

/** Freezes the cgroup and waits until every process in it is frozen; ms it took. Thaws again and
 * throws when that does not happen within the timeout (a process stuck in the kernel). */
export async function freeze(cgroup: NodeCgroup, timeoutMs = FREEZE_TIMEOUT_MS): Promise<number> {
  const started = performance.now();
  let ok: boolean;
  if (cgroup.kind === 'v2') {
    const events = join(cgroup.dir, 'cgroup.events');
    const frozen = async () => parseCgroupEvents(await readFile(events, 'utf8')).frozen;
    // the watch is set inside settle() before the first read, and the write comes first: a change
    // between the write and the watch is caught by that first read
    await writeFile(join(cgroup.dir, 'cgroup.freeze'), '1');
    ok = await settle(events, frozen, 20, timeoutMs);
  } else {
    const state = join(cgroup.dir, 'freezer.state');
    await writeFile(state, 'FROZEN');
    ok = await settle(state, async () => (await readFile(state, 'utf8')).trim() === 'FROZEN', 1, timeoutMs);
  }
  if (!ok) {
    await thaw(cgroup);
    throw new UnavailableError('NODE_FREEZE_TIMEOUT', `the node's processes did not all freeze within ${timeoutMs} ms (${cgroup.dir}); thawed again`);
  }
  return performance.now() - started;
}

export async function thaw(cgroup: NodeCgroup): Promise<void> {
  if (cgroup.kind === 'v2') await writeFile(join(cgroup.dir, 'cgroup.freeze'), '0');
  else await writeFile(join(cgroup.dir, 'freezer.state'), 'THAWED');
}

export interface FrozenResult<T> {
  value: T;
  /** from asking for the freeze until every process was frozen */
  freezeWaitMs: number;
  /** how long the node stood still: from asking for the freeze until thawed */
  frozenMs: number;
  /** the work was still running at maxFrozenMs: the node was thawed then, and the work finished after */
  overran: boolean;
}

/** Runs `work` with the node frozen, and always thaws it. `marker` is written before the freeze and
 * removed after the thaw, so an agent killed in between leaves a note of what to thaw (thawMarked).
 * A node never stands still longer than maxFrozenMs: a btrfs snapshot stalled behind the file
 * system's commit was measured holding a node for 5-8 s; past the bound the node is thawed, the
 * work is left to finish, and `overran` says the result is not from one instant. */
export async function whileFrozen<T>(
  cgroup: NodeCgroup,
  marker: { write(c: NodeCgroup): Promise<void>; clear(): Promise<void> },
  work: () => Promise<T>,
  maxFrozenMs = MAX_FROZEN_MS,
): Promise<FrozenResult<T>> {
  await marker.write(cgroup);
  const started = performance.now();
  let freezeWaitMs = 0;
  let frozenMs = 0;
  let overran = false;
  let pending: Promise<T> | undefined;
  let bound: NodeJS.Timeout | undefined;
  try {
    freezeWaitMs = await freeze(cgroup);
    pending = work();
    const late = new Promise<'late'>((resolve) => {
      bound = setTimeout(() => resolve('late'), Math.max(0, maxFrozenMs - (performance.now() - started)));
    });
    overran = (await Promise.race([pending.then(() => 'done' as const), late])) === 'late';
  } finally {
    clearTimeout(bound);
    await thaw(cgroup);
    frozenMs = performance.now() - started;
  }
  const value = await pending;
  await marker.clear();
  return { value, freezeWaitMs, frozenMs, overran };
}
