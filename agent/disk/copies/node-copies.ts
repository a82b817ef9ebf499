// One node's copies brought up to date: its repositories made where they are missing (from a
// surviving copy with `init --copy-chunker-params` + `copy`, so a replacement carries the history
// without reading the source again; fresh otherwise), then its newest snapshot set backed up from
// the stable path to every copy that lacks it. Each copy succeeds or fails on its own; every step
// is an event. The records are updated in place; the caller saves them.
import type { EventBus } from '../../events.ts';
import type { Logger } from '../../log.ts';
import type { CopyRecord } from './copies-state.ts';
import { repositoryOf } from './copies-state.ts';
import { CopyError, type Repository, type Restic } from './restic.ts';
import type { StablePaths, StableVolume } from './stable-path.ts';

/** The newest whole snapshot set of a node, as the snapshots part gives it. */
export interface SetToCopy {
  name: string;
  createdAt: string;
  /** each volume's read-only snapshot on the host */
  volumes: StableVolume[];
}

export interface CopyOutcome {
  station: string;
  ok: boolean;
  snapshot: string | null;
  dataAdded: number | null;
  seconds: number | null;
  error: string | null;
}

export interface NodeCopyDeps {
  restic: Restic;
  stable: StablePaths;
  events: EventBus;
  log: Logger;
  /** this station's name: restic's --host, so every copy tells whose it is */
  host: string;
  /** a new grant from a store that refused ours (401), written into its copies */
  regrant?: (station: string) => Promise<void>;
}

export const repoOf = (node: string, c: CopyRecord): Repository => repositoryOf(c, c.repository, `${c.station}/${node}`);
const now = (): string => new Date().toISOString();

function failed(deps: NodeCopyDeps, node: string, c: CopyRecord, error: unknown): string {
  const message = (error as Error).message;
  c.lastError = message;
  c.lastErrorAt = now();
  if (error instanceof CopyError) {
    // not ours (someone else's key) or broken: never written again, placement replaces it
    if (error.failure === 'WRONG_KEY' || error.failure === 'REPOSITORY_DAMAGED') c.damaged = true;
    // the store lost it (or never had it): made again next run
    if (error.failure === 'NOT_A_REPOSITORY') c.initialized = false;
  }
  const detail = error instanceof CopyError ? error.detail : undefined;
  deps.log.warn({ node, station: c.station, err: message, detail }, 'copy failed');
  deps.events.publish('disk.copy.failed', { node, station: c.station, code: (error as { code?: string }).code ?? 'COPY_FAILED', reason: message });
  return message;
}

/** Makes the repository of each new copy (one that fails stays uninitialized and is tried next run). */
export async function ensureRepositories(deps: NodeCopyDeps, node: string, copies: CopyRecord[], replacing: Map<string, string>): Promise<void> {
  for (const c of copies.filter((x) => !x.initialized && !x.damaged)) {
    const source = copies.find((x) => x.initialized && !x.damaged && x.lastSnapshot && x !== c);
    try {
      try {
        await deps.restic.init(repoOf(node, c), source ? repoOf(node, source) : undefined);
      } catch (error) {
        // already there: ours when the owner's key opens it (a killed agent's init), else not ours
        if (!(error instanceof CopyError && error.failure === 'REPOSITORY_EXISTS')) throw error;
        await deps.restic.snapshots(repoOf(node, c));
      }
      c.initialized = true;
      if (source) {
        // copied snapshots get new ids: the last one saved is the newest
        const saved = await deps.restic.copy(repoOf(node, source), repoOf(node, c));
        c.lastSnapshot = saved.at(-1) ?? c.lastSnapshot;
        c.lastSet = source.lastSet;
        c.lastSetAt = source.lastSetAt;
        c.lastSuccess = now();
        c.lastError = null;
      }
      const from = replacing.get(c.station);
      if (from) deps.events.publish('disk.copy.replaced', { node, from, to: c.station, how: source ? 'copy' : 'backup' });
    } catch (error) {
      failed(deps, node, c, error);
    }
  }
}

/**
 * One backup; a store that refuses our grant (401: it suspended us, or another grant of ours
 * replaced the password) is asked for a new one and the backup tried once more, so the run heals
 * instead of waiting for the next one.
 */
async function backUpOnce(deps: NodeCopyDeps, node: string, c: CopyRecord, dir: string, set: string) {
  const backup = () => deps.restic.backup(repoOf(node, c), dir, deps.host, [`node=${node}`, `set=${set}`]);
  try {
    return await backup();
  } catch (error) {
    if (!(error instanceof CopyError && error.failure === 'PEER_UNAUTHORIZED' && deps.regrant)) throw error;
    await deps.regrant(c.station);
    return backup();
  }
}

/** Backs the set up to every usable copy that does not hold it yet. */
export async function backUpSet(deps: NodeCopyDeps, node: string, spec: unknown, set: SetToCopy, copies: CopyRecord[]): Promise<CopyOutcome[]> {
  const due = copies.filter((c) => c.initialized && !c.damaged && c.lastSet !== set.name);
  if (!due.length) return [];
  return deps.stable.with(node, spec, set.volumes, async (dir) => {
    const outcomes: CopyOutcome[] = [];
    for (const c of due) {
      deps.events.publish('disk.copy.started', { node, station: c.station, set: set.name });
      try {
        const summary = await backUpOnce(deps, node, c, dir, set.name);
        Object.assign(c, {
          lastSnapshot: summary.snapshotId,
          lastSet: set.name,
          lastSetAt: set.createdAt,
          lastSuccess: now(),
          lastError: null,
          lastErrorAt: null,
        });
        c.bytes = await deps.restic.bytesHeld(repoOf(node, c)).catch(() => c.bytes);
        const done = { snapshot: summary.snapshotId, dataAdded: summary.dataAdded, seconds: summary.durationSeconds };
        deps.events.publish('disk.copy.succeeded', { node, station: c.station, set: set.name, bytes: c.bytes ?? 0, ...done });
        outcomes.push({ station: c.station, ok: true, error: null, ...done });
      } catch (error) {
        outcomes.push({ station: c.station, ok: false, snapshot: null, dataAdded: null, seconds: null, error: failed(deps, node, c, error) });
      }
    }
    return outcomes;
  });
}

/** Reads back part of a copy's data; a damaged copy is marked for replacement. Our stale locks go first. */
export async function checkCopy(deps: NodeCopyDeps, node: string, c: CopyRecord, subset: string): Promise<void> {
  try {
    await deps.restic.unlock(repoOf(node, c));
    const verdict = await deps.restic.check(repoOf(node, c), subset);
    c.lastCheck = now();
    if (!verdict.ok) {
      c.damaged = true;
      c.lastError = `check: ${verdict.problem}`;
      c.lastErrorAt = c.lastCheck;
    }
    deps.events.publish('disk.copy.checked', { node, station: c.station, ok: verdict.ok, problem: verdict.problem });
  } catch (error) {
    failed(deps, node, c, error);
  }
}
