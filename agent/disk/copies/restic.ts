// restic 0.14 as the copies use it, through the one command runner. A repository's URL carries the
// peer's grant (rest:http://user:password@addr:port/user/node/) and the owner's key sits in a 0600
// file: both reach restic through its environment (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE), which
// only root and the agent can read, never through argv (world-readable in /proc), and every report
// is cut to the repository's label with the grant blanked out.
//
// A peer lost mid-backup makes restic retry for about 150 s (measured here) before it gives up; the
// watchdog below stops it once the peer has not answered for `stallSeconds`. Such a backup saves no
// snapshot (restic writes the snapshot file last), so nothing is counted; it leaves a stale lock,
// which `unlock` (ours: same host, process gone) removes at the next run.
import { PassThrough, type Writable } from 'node:stream';
import { StationError, type ErrorKind, ExecError } from '../../errors.ts';
import type { ExecOptions, ExecResult, Runner } from '../../exec.ts';
import {
  type BackupSummary,
  classifyResticError,
  isUnansweredRetry,
  parseBackupSummary,
  parseCheck,
  parseCopySaved,
  parseRawDataStats,
  parseSnapshots,
  type ResticFailure,
  type ResticSnapshot,
} from './restic-output.ts';

/** One repository: its URL (secret: it holds the grant) and what reports call it. */
export interface Repository {
  url: string;
  /** e.g. "s2/web": the station holding it and the node */
  label: string;
}

export interface ResticOptions {
  run: Runner;
  /** the owner's repository key, in a 0600 file */
  passwordFile: string;
  /** restic's local cache (metadata of this station's own repositories) */
  cacheDir: string;
  /** run restic inside this network namespace (tests; the agent already runs in its station's) */
  netns?: string;
  /** a backup, copy or restore whose peer has not answered this long is stopped (default 30 s) */
  stallSeconds?: number;
}

const KIND: Record<ResticFailure, ErrorKind> = {
  WRONG_KEY: 'conflict',
  REPOSITORY_EXISTS: 'conflict',
  NOT_A_REPOSITORY: 'not-found',
  PEER_UNAUTHORIZED: 'forbidden',
  PEER_FORBIDDEN: 'forbidden',
  PEER_UNREACHABLE: 'unavailable',
  SNAPSHOT_NOT_FOUND: 'not-found',
  PATH_NOT_FOUND: 'not-found',
  REPOSITORY_DAMAGED: 'conflict',
  RESTIC_FAILED: 'engine',
};

/** A restic run that failed, with its class (what the copies act on) and the repository's label. */
export class CopyError extends StationError {
  readonly failure: ResticFailure;
  /** the end of what restic printed on stderr (secrets blanked), for the log */
  readonly detail: string;
  constructor(failure: ResticFailure, message: string, repository: string, detail = '') {
    super(KIND[failure], `COPY_${failure}`, `${repository}: ${message}`, { repository });
    this.name = 'CopyError';
    this.failure = failure;
    this.detail = detail.trim().slice(-800);
  }
}

const MINUTE = 60_000;
const QUICK_MS = 2 * MINUTE;
const LONG_MS = 6 * 60 * MINUTE;

/** The grant's password inside a rest: URL, to blank out of whatever restic prints. */
function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url.replace(/^rest:/, ''));
    return [url, parsed.password, decodeURIComponent(parsed.password)].filter((s) => s.length > 0);
  } catch {
    return [url];
  }
}

export class Restic {
  private readonly o: ResticOptions;
  constructor(options: ResticOptions) {
    this.o = options;
  }

  /** A new repository (format 2, compressed). With `from`: the same chunker as that copy, so
   * `copy` from it deduplicates. Over an existing repository: REPOSITORY_EXISTS, nothing written. */
  async init(repo: Repository, from?: Repository): Promise<void> {
    const argv = ['init', '--repository-version', '2'];
    if (from) argv.push('--copy-chunker-params');
    await this.restic(repo, argv, { timeoutMs: QUICK_MS }, from);
  }

  /** Backs up `dir` (a stable path) as `.`, so the snapshot's root is the directory's contents. */
  async backup(repo: Repository, dir: string, host: string, tags: string[]): Promise<BackupSummary> {
    const argv = ['backup', '--json', '--host', host, ...tags.flatMap((t) => ['--tag', t]), '.'];
    const result = await this.restic(repo, argv, { cwd: dir, timeoutMs: LONG_MS, watch: true });
    const summary = parseBackupSummary(result.stdout);
    if (!summary) throw new CopyError('RESTIC_FAILED', 'restic backup printed no summary: no snapshot was saved', repo.label);
    return summary;
  }

  /** Snapshots, oldest first; filtered by tag (e.g. node=web) and host when given. */
  async snapshots(repo: Repository, filter: { tag?: string; host?: string } = {}): Promise<ResticSnapshot[]> {
    const argv = ['snapshots', '--json'];
    if (filter.tag) argv.push('--tag', filter.tag);
    if (filter.host) argv.push('--host', filter.host);
    return parseSnapshots((await this.restic(repo, argv, { timeoutMs: QUICK_MS })).stdout);
  }

  /** Restores a whole snapshot into `target` (the snapshot's root becomes the target's contents). */
  async restore(repo: Repository, snapshot: string, target: string, include?: string): Promise<void> {
    const argv = ['restore', checkId(snapshot), '--target', target];
    if (include) argv.push('--include', include);
    await this.restic(repo, argv, { timeoutMs: LONG_MS, watch: true });
  }

  /** Streams one file of a snapshot (a path from its root, e.g. /volumes/data/x) to `to`. */
  async dump(repo: Repository, snapshot: string, path: string, to: Writable): Promise<void> {
    await this.restic(repo, ['dump', checkId(snapshot), path], { timeoutMs: LONG_MS, stdoutStream: to });
  }

  /** Copies every snapshot `from` has and `to` lacks (idempotent); returns the ids saved in `to`. */
  async copy(from: Repository, to: Repository): Promise<string[]> {
    return parseCopySaved((await this.restic(to, ['copy'], { timeoutMs: LONG_MS, watch: true }, from)).stdout);
  }

  /** Reads back `subset` of the data (`n/t`, `x%`, a size) and checks the structure. */
  async check(repo: Repository, subset: string): Promise<{ ok: boolean; problem: string | null }> {
    if (!/^(\d+\/\d+|\d+(\.\d+)?%|\d+[KMGT]?)$/.test(subset)) throw new CopyError('RESTIC_FAILED', `bad check subset ${JSON.stringify(subset)}`, repo.label);
    const r = await this.restic(repo, ['check', '--read-data-subset', subset], { timeoutMs: LONG_MS, allowFailure: true });
    const verdict = parseCheck(r.exitCode, r.stdout, r.stderr);
    if (!verdict.ok) {
      // a check that could not reach the repository or open it says nothing about damage
      const { failure, message } = classifyResticError(r.stderr);
      if (failure !== 'REPOSITORY_DAMAGED' && failure !== 'RESTIC_FAILED') throw new CopyError(failure, message, repo.label);
    }
    return verdict;
  }

  /** Bytes the repository holds on its peer. */
  async bytesHeld(repo: Repository): Promise<number> {
    return parseRawDataStats((await this.restic(repo, ['stats', '--json', '--mode', 'raw-data'], { timeoutMs: LONG_MS })).stdout).totalBytes;
  }

  /** Removes stale locks: ours (this host) whose restic process is gone, as a stopped backup leaves. */
  async unlock(repo: Repository): Promise<void> {
    await this.restic(repo, ['unlock'], { timeoutMs: QUICK_MS });
  }

  private async restic(repo: Repository, args: string[], options: ExecOptions & { watch?: boolean }, from?: Repository): Promise<ExecResult> {
    const env: Record<string, string> = {
      RESTIC_REPOSITORY: repo.url,
      RESTIC_PASSWORD_FILE: this.o.passwordFile,
      RESTIC_CACHE_DIR: this.o.cacheDir,
      RESTIC_COMPRESSION: 'auto',
    };
    if (from) Object.assign(env, { RESTIC_FROM_REPOSITORY: from.url, RESTIC_FROM_PASSWORD_FILE: this.o.passwordFile });
    const secrets = [...urlSecrets(repo.url), ...(from ? urlSecrets(from.url) : [])];
    const { watch, ...rest } = options;
    const watchdog = watch ? stallWatchdog((this.o.stallSeconds ?? 30) * 1000) : null;
    try {
      return await this.o.run(['restic', ...args], {
        ...rest,
        env,
        secrets,
        netns: this.o.netns,
        onStderr: watchdog?.onStderr,
        // the runner kills a program whose input stream fails: the watchdog's way to stop restic
        stdinStream: watchdog?.input,
      });
    } catch (error) {
      if (watchdog?.stalled) {
        throw new CopyError(
          'PEER_UNREACHABLE',
          `the peer stopped answering for ${this.o.stallSeconds ?? 30} s; restic was stopped (nothing counted)`,
          repo.label,
        );
      }
      if (error instanceof ExecError) {
        if (error.timedOut) throw new CopyError('PEER_UNREACHABLE', `restic ${args[0]} timed out`, repo.label);
        const { failure, message } = classifyResticError(error.stderr);
        const label = failure === 'RESTIC_FAILED' && from ? `${from.label} -> ${repo.label}` : repo.label;
        throw new CopyError(failure, message, label, error.stderr);
      }
      throw error;
    } finally {
      watchdog?.stop();
    }
  }
}

const checkId = (id: string): string => {
  if (!/^([0-9a-f]{8,64}|latest)$/.test(id)) throw new CopyError('SNAPSHOT_NOT_FOUND', `snapshot id ${JSON.stringify(id)} is not 8-64 hex digits`, 'request');
  return id;
};

/** Stops restic once its retries of an unanswered peer have gone on for `stallMs` (a quiet minute
 * ends the streak: restic got through). */
function stallWatchdog(stallMs: number) {
  const input = new PassThrough();
  let streakStart: number | null = null;
  let lastRetry = 0;
  let partial = '';
  const w = {
    input,
    stalled: false,
    onStderr(chunk: string) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      const now = Date.now();
      for (const line of lines) {
        if (!isUnansweredRetry(line)) continue;
        if (streakStart === null || now - lastRetry > 60_000) streakStart = now;
        lastRetry = now;
        if (now - streakStart >= stallMs && !w.stalled) {
          w.stalled = true;
          input.destroy(new Error('peer stopped answering'));
        }
      }
    },
    stop() {
      input.end();
    },
  };
  return w;
}
