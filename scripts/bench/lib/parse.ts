// Pure parsers for what the benchmarks read: wrk's report and /proc/PID/smaps_rollup.
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

export interface WrkReport {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

export function parseWrk(text: string): WrkReport {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rps) throw new Error(`not a wrk report: ${text.slice(0, 200)}`);
  const latency = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)$`, 'm').exec(text);
    if (!m) throw new Error(`wrk report has no ${p}% latency (run wrk with --latency)`);
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  };
  const requests = Number(/^\s+(\d+) requests in/m.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { requestsPerSecond: Number(rps[1]), p50Ms: latency('50'), p99Ms: latency('99'), requests, errors };
}

/** anonKb is memory the process itself made (heap, stacks); rssKb - anonKb is file pages (Node's executable, libraries) */
export interface MemoryBreakdown {
  rssKb: number;
  anonKb: number;
  privateKb: number;
  sharedCleanKb: number;
  pssKb: number;
}

export function parseSmapsRollup(text: string): MemoryBreakdown {
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rssKb: field('Rss'),
    anonKb: field('Anonymous'),
    privateKb: field('Private_Dirty') + field('Private_Clean'),
    sharedCleanKb: field('Shared_Clean'),
    pssKb: field('Pss'),
  };
}
