// Parser of `ping -c 1 -n ADDR` output (pure; tested on captured output): the round-trip time in
// ms, or null when no reply came.
export function parsePingRtt(stdout: string): number | null {
  const m = /time[=<]([\d.]+) ms/.exec(stdout);
  return m ? Number(m[1]) : null;
}
