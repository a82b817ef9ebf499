// How the agent's Node process is tuned for a small, mostly idle box: the one place for it. The agent
// is started in many ways (scripts/dev up, the image's systemd unit, the balena container, tests,
// testbed, benchmarks); main.ts applies these settings itself, so every one of them runs the same
// process that the status benchmark measures.
/**
 * V8 flags; they size the heap when the process starts, so they cannot be set later. Each trades a
 * little peak speed for memory on a box that idles most of its life; the measurements behind them
 * are in docs/benchmarks.md.
 */
export const NODE_FLAGS: readonly string[] = [
  // A small young generation: the agent's garbage is short-lived and small, and the default lets it
  // grow to 16 MB of resident memory that an idle station never needs.
  '--max-semi-space-size=1',
  // No Maglev and no Sparkplug (the mid-tier and baseline compilers): their code and compile garbage
  // stay resident; hot code still reaches TurboFan, so request throughput does not measurably change.
  '--no-maglev',
  '--no-sparkplug',
];

/** Environment read by the C library when the process starts. */
export const NODE_ENV: Readonly<Record<string, string>> = {
  // glibc gives each allocating thread its own malloc arena, where freed memory stays; V8's and
  // libuv's worker threads allocate little, so one shared arena costs them nothing measurable.
  MALLOC_ARENA_MAX: '1',
};

/** Set in the re-executed process: re-execute at most once, whatever happens to the flags. */
const REEXEC_MARK = 'STATION_PROCESS_SETTINGS';

/** `--maglev` and `--no-maglev` are one setting */
const flagName = (flag: string) => flag.split('=')[0]!.replace(/^--no-/, '--');

/**
 * The argv and environment to re-execute this process with, or null when it already runs with the
 * settings. A flag or variable the person starting the agent set (to any value) is theirs and kept.
 */
export function reexecPlan(
  execPath: string,
  execArgv: readonly string[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { argv: string[]; env: NodeJS.ProcessEnv } | null {
  if (env[REEXEC_MARK]) return null;
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].filter(Boolean).map(flagName));
  const flags = NODE_FLAGS.filter((f) => !given.has(flagName(f)));
  const vars = Object.entries(NODE_ENV).filter(([k]) => env[k] === undefined);
  if (flags.length === 0 && vars.length === 0) return null;
  return { argv: [execPath, ...flags, ...execArgv, ...argv.slice(1)], env: { ...env, ...Object.fromEntries(vars), [REEXEC_MARK]: '1' } };
}

/**
 * Replaces this process (same pid, same stdio) with one that has the settings; returns only when it
 * already has them or cannot be replaced (then it runs untuned rather than not at all). Call before
 * anything else is loaded: the first process costs ~40 ms of start-up.
 */
export function applyProcessSettings(): void {
  const plan = reexecPlan(process.execPath, process.execArgv, process.argv, process.env);
  if (plan && typeof process.execve === 'function') {
    try {
      process.execve(process.execPath, plan.argv, plan.env as Record<string, string>);
    } catch (error) {
      process.stderr.write(`station: running without process settings: ${(error as Error).message}\n`);
    }
  }
  delete process.env[REEXEC_MARK]; // not inherited by the programs the agent runs
}
