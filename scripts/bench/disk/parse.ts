// Pure parsers for what the disk benchmark reads: fio's JSON report and ldd's list of libraries (for
// the fio bundle a node runs). restic's output is parsed by the agent's own parsers.
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
