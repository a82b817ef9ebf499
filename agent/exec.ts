// The one way this project runs an external program: argv only (no shell), LC_ALL=C so output
// parsers see stable text, a timeout, and a typed ExecError carrying argv, exit code and stderr.
// Parsing the output is the caller's job, done by pure functions that are tested on captured output.
import { spawn } from 'node:child_process';
import { ExecError } from './errors.ts';

export interface ExecOptions {
  /** Kill the program after this many ms (default 60 s). */
  timeoutMs?: number;
  /** Written to the program's stdin, then closed. */
  input?: string;
  /** Extra environment; LC_ALL=C and LANG=C are always set. */
  env?: Record<string, string>;
  cwd?: string;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  /** Run inside this network namespace (`ip netns exec NAME ...`). */
  netns?: string;
  /** Called with each chunk of stdout, for progress reporting. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface ExecResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type Runner = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

const DEFAULT_TIMEOUT_MS = 60_000;
// Output beyond this is dropped from the buffers (still streamed to callbacks): a runaway
// program must not grow the agent's memory without bound.
const MAX_BUFFER = 16 * 1024 * 1024;

export const exec: Runner = (argvIn, options = {}) => {
  const argv = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argvIn] : [...argvIn];
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new TypeError('exec needs a program name'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_BUFFER) stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_BUFFER) stderr += chunk;
      options.onStderr?.(chunk);
    });
    child.stdin.on('error', () => { /* the program may exit before reading its input */ });
    child.stdin.end(options.input ?? '');
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new ExecError(argv, null, stdout, stderr, false, error.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitCode = code ?? (signal ? 128 : 1);
      if (timedOut || (exitCode !== 0 && !options.allowFailure)) {
        reject(new ExecError(argv, code, stdout, stderr, timedOut));
        return;
      }
      resolve({ argv, exitCode, stdout, stderr });
    });
  });
};

/** True when `program` can be found on PATH (no side effects). */
export async function hasProgram(program: string): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  for (const dir of dirs) {
    try {
      await access(`${dir}/${program}`, constants.X_OK);
      return true;
    } catch { /* try the next directory */ }
  }
  return false;
}
