// Pure parsers of restic 0.14's output (captured in test/fixtures/restic/). restic prints JSON only
// for backup (one object per line: status lines, then one summary), snapshots and stats; init, copy,
// check and every error are plain text, read here by the lines 0.14 prints.

export interface BackupSummary {
  /** restic's 8-hex short id (0.14 gives no full id in the summary) */
  snapshotId: string;
  /** bytes new to the repository, before compression */
  dataAdded: number;
  durationSeconds: number;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  totalBytes: number;
}

export interface ResticSnapshot {
  id: string;
  shortId: string;
  time: string;
  hostname: string;
  tags: string[];
  paths: string[];
  /** the source snapshot's id, on a snapshot made by `restic copy` */
  original: string | null;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The summary line of `backup --json`, or null when there is none (a backup that did not finish). */
export function parseBackupSummary(stdout: string): BackupSummary | null {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (o.message_type !== 'summary' || !/^[0-9a-f]{8,64}$/.test(str(o.snapshot_id))) continue;
    return {
      snapshotId: str(o.snapshot_id),
      dataAdded: num(o.data_added),
      durationSeconds: num(o.total_duration),
      filesNew: num(o.files_new),
      filesChanged: num(o.files_changed),
      filesUnmodified: num(o.files_unmodified),
      totalBytes: num(o.total_bytes_processed),
    };
  }
  return null;
}

/** `snapshots --json`: oldest first, as restic lists them. */
export function parseSnapshots(stdout: string): ResticSnapshot[] {
  const list: unknown = JSON.parse(stdout.trim() || '[]');
  if (!Array.isArray(list)) throw new SyntaxError('restic snapshots --json did not print an array');
  return list
    .filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null && /^[0-9a-f]{64}$/.test(str((s as Record<string, unknown>).id)))
    .map((s) => ({
      id: str(s.id),
      shortId: str(s.short_id) || str(s.id).slice(0, 8),
      time: str(s.time),
      hostname: str(s.hostname),
      tags: Array.isArray(s.tags) ? s.tags.map(str) : [],
      paths: Array.isArray(s.paths) ? s.paths.map(str) : [],
      original: str(s.original) || null,
    }));
}

/** `stats --json --mode raw-data`: the bytes the repository holds (about its files' size on the peer). */
export function parseRawDataStats(stdout: string): { totalBytes: number; snapshots: number } {
  const o = JSON.parse(stdout.trim());
  if (typeof o?.total_size !== 'number') throw new SyntaxError('restic stats --json printed no total_size');
  return { totalBytes: o.total_size, snapshots: num(o.snapshots_count) };
}

/** `check`: clean only on rc 0 with "no errors were found"; otherwise the first problem line restic named. */
export function parseCheck(exitCode: number, stdout: string, stderr: string): { ok: boolean; problem: string | null } {
  if (exitCode === 0 && /no errors were found/.test(stdout)) return { ok: true, problem: null };
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim());
  const problem =
    lines.find((l) => /does not match|error|invalid|missing|damaged|not found/i.test(l) && !l.startsWith('Fatal:')) ??
    lines.find((l) => l.startsWith('Fatal:'));
  return { ok: false, problem: problem ?? `restic check exited with ${exitCode}` };
}

/** `copy`: the ids of the snapshots saved in the target this run. */
export function parseCopySaved(stdout: string): string[] {
  return [...stdout.matchAll(/^snapshot ([0-9a-f]{8}) saved$/gm)].map((m) => m[1]!);
}

/** Why restic failed, sorted into the classes the copies act on. Ordered: the first match wins. */
export type ResticFailure =
  | 'WRONG_KEY' // the owner's key does not open it: someone else's repository, or a changed key
  | 'REPOSITORY_EXISTS' // init over a repository that is there: nothing was written
  | 'NOT_A_REPOSITORY' // nothing at the URL yet
  | 'PEER_UNAUTHORIZED' // the store does not know our grant (401)
  | 'PEER_FORBIDDEN' // the store refused the path or the delete (403)
  | 'PEER_UNREACHABLE' // no answer: peer down, mesh down, or lost mid-run
  | 'SNAPSHOT_NOT_FOUND'
  | 'PATH_NOT_FOUND'
  | 'REPOSITORY_DAMAGED'
  | 'RESTIC_FAILED';

const FAILURES: [ResticFailure, RegExp, string][] = [
  ['WRONG_KEY', /wrong password or no key found/, "the owner's key does not open this repository (a wrong key, or someone else's repository)"],
  ['REPOSITORY_EXISTS', /config file already exists/, 'a repository is there already (nothing was overwritten)'],
  ['PEER_UNAUTHORIZED', /\b401\b/, "the peer's store does not accept this station's grant (401)"],
  ['PEER_FORBIDDEN', /\b403\b/, "the peer's store refused the request (403)"],
  [
    'PEER_UNREACHABLE',
    new RegExp(
      [
        'connection refused',
        'no route to host',
        'i/o timeout',
        'network is unreachable',
        'connection reset',
        'use of closed network connection',
        'EOF',
        'dial tcp',
        'context deadline exceeded',
      ].join('|'),
    ),
    'the peer did not answer',
  ],
  ['NOT_A_REPOSITORY', /unable to open config file|Is there a repository at the following location/, 'no repository at this location'],
  ['SNAPSHOT_NOT_FOUND', /no matching ID found|invalid id|no snapshot found/i, 'no such snapshot in this copy'],
  ['PATH_NOT_FOUND', /cannot dump file: path .* not found in snapshot/, 'no such file in the snapshot'],
  ['REPOSITORY_DAMAGED', /repository contains errors/, 'the repository is damaged'],
];

export function classifyResticError(stderr: string): { failure: ResticFailure; message: string } {
  for (const [failure, pattern, message] of FAILURES) if (pattern.test(stderr)) return { failure, message };
  const fatal = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('Fatal:'));
  return { failure: 'RESTIC_FAILED', message: fatal ? fatal.slice(7).trim() : 'restic failed' };
}

/** True for a stderr line restic prints while it retries a request the peer did not answer. */
export const isUnansweredRetry = (line: string): boolean =>
  /returned error, retrying after/.test(line) && FAILURES.find(([f]) => f === 'PEER_UNREACHABLE')![1].test(line);
