// How the agent's Node process is tuned for a small, mostly idle box: the one place for it. The agent
// is started in many ways (scripts/dev up, the image's systemd unit, the balena container, tests,
// testbed, benchmarks); main.ts applies these settings itself, so every one of them runs the same
// process that the status benchmark measures.
/** V8 flags; they size the heap when the process starts, so they cannot be set later. */
export const NODE_FLAGS: readonly string[] = [
  // A 1 MB young generation (default 16 MB once grown) saves ~25 MB of idle RSS (132 -> 106 MB
  // measured before lazy schema compilation); 2 MB saves the same, 4 MB ~2 MB less than that.
  '--max-semi-space-size=1',
  // No Maglev (the mid-tier compiler; TurboFan stays): idle RSS -1 to -2 MB, and 16 s after a status
  // load 95-102 MB instead of 110-112 (its code and compile garbage); status bench ratio 0.77-0.80
  // with it off vs 0.79-0.80 on (2026-11-25, load 0.6: within the run-to-run noise).
  '--no-maglev',
  // No Sparkplug (the baseline compiler between the interpreter and TurboFan): idle RSS 84.5-84.9 MB
  // instead of 87.3, 16 s after a status load 91-93 instead of 99; status bench ratio 0.79-0.81 vs
  // 0.80, ready +25 ms (2026-11-25, load 0.5-0.7). Hot code still reaches TurboFan.
  '--no-sparkplug',
];

/** Environment read by the C library when the process starts. */
export const NODE_ENV: Readonly<Record<string, string>> = {
  // glibc gives each thread that allocates its own malloc arena (up to 8 per core); V8's and libuv's
  // worker threads each keep freed memory in theirs. One arena: idle RSS ~1 MB below two and ~2-4 MB
  // below glibc's default; status bench ratio 0.81-0.83 with one vs 0.82 with two (2026-11-25, load
  // 0.5-0.8): the agent's threads allocate little, so they rarely wait on the shared arena.
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
export function reexecPlan(execPath: string, execArgv: readonly string[], argv: readonly string[], env: NodeJS.ProcessEnv): { argv: string[]; env: NodeJS.ProcessEnv } | null {
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
