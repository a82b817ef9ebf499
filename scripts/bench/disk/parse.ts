// Pure parsers for what the disk benchmark reads: fio's JSON report, restic's `backup --json`
// summary, ldd's list of libraries (the fio bundle a node runs) and a process's cgroup v2 path.
import { parseMounts } from '../../../hardware/parsers/mounts.ts';

export interface FioResult {
  /** bytes per second and I/O operations per second of the direction the job did */
  bytesPerSecond: number;
  iops: number;
  /** fio's own run time of the job in ms (the end fsync included) */
  runtimeMs: number;
  /** median fdatasync latency in µs, when the job synced after each write */
  syncP50Us: number | null;
}

/** fio --output-format=json; `direction` is the side the job measured. Text before the JSON (warnings) is skipped. */
export function parseFio(text: string, direction: 'read' | 'write'): FioResult {
  const start = text.indexOf('{');
  if (start < 0) throw new Error(`not a fio JSON report: ${text.slice(0, 200)}`);
  const report = JSON.parse(text.slice(start)) as { jobs?: FioJob[] };
  const job = report.jobs?.[0];
  if (!job) throw new Error('fio report has no job');
  if (job.error) throw new Error(`fio job ${job.jobname} failed with error ${job.error}`);
  const side = job[direction];
  if (!side || !(side.io_bytes > 0)) throw new Error(`fio job ${job.jobname} did no ${direction}s`);
  // fio 3.33 leaves sync.total_ios at 0; the latency sample count N says whether it synced
  const syncs = job.sync?.lat_ns.N ? job.sync.lat_ns.percentile?.['50.000000'] : undefined;
  return {
    bytesPerSecond: side.bw_bytes,
    iops: side.iops,
    runtimeMs: side.runtime,
    syncP50Us: syncs === undefined ? null : syncs / 1000,
  };
}

interface FioJob {
  jobname: string;
  error: number;
  read?: FioSide;
  write?: FioSide;
  sync?: { lat_ns: { N?: number; percentile?: Record<string, number> } };
}
interface FioSide {
  io_bytes: number;
  bw_bytes: number;
  iops: number;
  runtime: number;
}

export interface ResticSummary {
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  /** bytes of new data before compression */
  dataAdded: number;
  totalBytesProcessed: number;
  /** restic's own duration in seconds */
  totalDuration: number;
  snapshotId: string;
}

/** restic backup --json: status lines, then one summary line. */
export function parseResticSummary(stdout: string): ResticSummary {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line) as Record<string, unknown>;
    if (m.message_type !== 'summary') continue;
    const num = (key: string): number => {
      if (typeof m[key] !== 'number') throw new Error(`restic summary has no number ${key}`);
      return m[key] as number;
    };
    return {
      filesNew: num('files_new'),
      filesChanged: num('files_changed'),
      filesUnmodified: num('files_unmodified'),
      dataAdded: num('data_added'),
      totalBytesProcessed: num('total_bytes_processed'),
      totalDuration: num('total_duration'),
      snapshotId: String(m.snapshot_id),
    };
  }
  throw new Error(`restic printed no summary line: ${stdout.slice(-300)}`);
}

/** ldd PROGRAM: the files it loads (the dynamic loader included), without the kernel's vdso. */
export function parseLdd(text: string): { loader: string; libraries: string[] } {
  let loader = '';
  const libraries: string[] = [];
  for (const line of text.split('\n')) {
    const arrow = /^\s*\S+ => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (arrow) libraries.push(arrow[1]!);
    else if (/^\s*\S+ => not found/.test(line)) throw new Error(`ldd: ${line.trim()}`);
    const direct = /^\s*(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct) loader = direct[1]!;
  }
  if (!loader) throw new Error('ldd named no dynamic loader (a static program needs no bundle)');
  return { loader, libraries };
}

/**
 * The directory of a container's own cgroup in the v2 hierarchy, from its init's /proc/PID/cgroup and
 * /proc/self/mounts. Init may sit in a child (systemd moves itself to /init.scope): the container's
 * cgroup is the path up to and including the lxc.payload.NAME component.
 */
export function payloadCgroupDir(procCgroup: string, mounts: string): string {
  const v2 = parseMounts(mounts).find((m) => m.type === 'cgroup2');
  if (!v2) throw new Error('no cgroup2 hierarchy is mounted: the node cannot be frozen through cgroup.freeze');
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new Error('the process has no cgroup v2 path (no 0:: line)');
  const parts = line.slice(3).split('/').filter(Boolean);
  const at = parts.findIndex((p) => p.startsWith('lxc.payload.'));
  if (at < 0) throw new Error(`the process is not in an LXC container's cgroup: ${line}`);
  return [v2.target, ...parts.slice(0, at + 1)].join('/');
}

/** cgroup.events holds "populated 1\nfrozen 0\n". */
export function isFrozen(events: string): boolean {
  const m = /^frozen ([01])$/m.exec(events);
  if (!m) throw new Error(`cgroup.events has no frozen line: ${events}`);
  return m[1] === '1';
}
