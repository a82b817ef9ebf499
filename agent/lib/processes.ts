// The processes running on this machine, from /proc (no program run): each one's pid and command
// line (its argv joined by NUL bytes). Read synchronously: a few hundred tiny /proc files take ~3 ms
// this way, while as many async reads queue on libuv's four threads and take several times longer.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessCommandLine {
  pid: number;
  /** argv joined by NUL bytes, as /proc/PID/cmdline has it */
  cmdline: string;
}

/** Every process's pid and command line; a process that ends while they are read is left out. */
export function* processCommandLines(): Generator<ProcessCommandLine> {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    yield { pid: Number(pid), cmdline };
  }
}
