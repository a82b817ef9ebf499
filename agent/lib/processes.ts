// The processes running on this machine, from /proc (no program run): each one's pid and command
// line (its argv joined by NUL bytes); and the two ends of a daemon the agent runs as its child
// (Nebula, rclone): ending one a killed agent left behind, and stopping its own. Read synchronously: a few hundred tiny /proc files take ~3 ms
// this way, while as many async reads queue on libuv's four threads and take several times longer.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

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

/**
 * A daemon an agent that was killed left running (its pid file; only a process of `program` whose
 * argv holds `arg`, so never a stranger that reused the pid): SIGKILL it. The pid file goes either way.
 */
export function endStale(pidFile: string, program: string, arg: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.some((a) => a.endsWith(program)) && argv.includes(arg)) process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  rmSync(pidFile, { force: true });
}

/** Ends a child daemon: SIGTERM, SIGKILL if it still runs after 3 s; resolves once it has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
