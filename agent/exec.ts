// The one way this project runs an external program: argv only (no shell), LC_ALL=C so output
// parsers see stable text, a timeout, and a typed ExecError carrying argv, exit code and stderr.
// Parsing the output is the caller's job, done by pure functions that are tested on captured output.
// Secrets stay in: a child gets the agent's environment without its secret variables (balena keys,
// tokens, passwords), and strings the caller names as secrets are blanked out of what is reported.
import { spawn } from 'node:child_process';
import { finished, type Readable, type Writable } from 'node:stream';
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
  /** Strings to blank out (as ***) of the ExecError (message, argv, stdout, stderr) and the result's
   * argv, stdout and stderr: a password fed on stdin or echoed back by the program. */
  secrets?: readonly string[];
  /** Inherited secret variables this program does need (by name); none pass unless named here. */
  passSecretEnv?: readonly string[];
  /** Binary input piped to the program instead of `input` (a btrfs send stream, say). An error on it
   * kills the program, so a cut-off stream is never taken for a complete one; what the program
   * leaves unread when it exits is dropped (the stream is destroyed). */
  stdinStream?: Readable;
  /** Binary output piped here, unbuffered and left out of the result. Ended when the program exits 0,
   * destroyed with the error otherwise, so whoever reads it never mistakes a failed stream for a whole one. */
  stdoutStream?: Writable;
}

export interface ExecResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type Runner = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

const DEFAULT_TIMEOUT_MS = 60_000;

// Variables a child never inherits: balena's device and supervisor keys (and their old RESIN_ names),
// and anything named like a credential. A deny-list, so the ordinary environment (PATH, proxies, CA
// bundles, the test doubles' settings) still reaches tools that need it.
const SECRET_VARIABLE = /^(BALENA|RESIN)_|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;

/** The environment a child process starts from: `base` without secret variables (except those named). */
export function childEnvironment(base: NodeJS.ProcessEnv = process.env, pass: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && (!SECRET_VARIABLE.test(name) || pass.includes(name))) env[name] = value;
  }
  return env;
}

/** Replaces every occurrence of each secret (empty ones ignored) with ***. */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('***');
  return out;
}
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
      env: { ...childEnvironment(process.env, options.passSecretEnv), ...options.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const sink = options.stdoutStream;
    if (sink) {
      child.stdout.pipe(sink, { end: false });
      // the reader went away (an error, or closed before the end): stop the program rather than let
      // it block on a full pipe until the timeout
      // (its output pipe is dropped too: paused behind a gone reader, it would keep this process alive)
      const stop = () => {
        child.stdout.unpipe(sink);
        child.stdout.destroy();
        child.kill('SIGKILL');
      };
      sink.once('error', stop);
      sink.once('close', stop);
    } else {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (stdout.length < MAX_BUFFER) stdout += chunk;
        options.onStdout?.(chunk);
      });
    }
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_BUFFER) stderr += chunk;
      options.onStderr?.(chunk);
    });
    child.stdin.on('error', () => {
      /* the program may exit before reading its input */
    });
    let inputError: Error | null = null;
    if (options.stdinStream) {
      options.stdinStream.once('error', (error) => {
        inputError = error;
        child.kill('SIGKILL');
      });
      options.stdinStream.pipe(child.stdin);
    } else {
      child.stdin.end(options.input ?? '');
    }
    // What is reported (errors end up in logs and API bodies) never carries the named secrets.
    const hide = (text: string) => redact(text, options.secrets);
    const shownArgv = argv.map(hide);
    const fail = (error: ExecError) => {
      sink?.destroy(error);
      reject(error);
    };
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(new ExecError(shownArgv, null, hide(stdout), hide(stderr), false, hide(error.message)));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // the program was the input's only reader: what it left unread goes nowhere, and a sender
      // feeding the input learns that its reader is gone
      if (options.stdinStream && !options.stdinStream.readableEnded) options.stdinStream.destroy();
      const exitCode = code ?? (signal ? 128 : 1);
      if (inputError) {
        const said = `${hide(stderr)}\ninput stream failed: ${hide(inputError.message)}`;
        fail(new ExecError(shownArgv, code, hide(stdout), said, false));
        return;
      }
      if (timedOut || (exitCode !== 0 && !options.allowFailure)) {
        fail(new ExecError(shownArgv, code, hide(stdout), hide(stderr), timedOut));
        return;
      }
      const result = { argv: shownArgv, exitCode, stdout: hide(stdout), stderr: hide(stderr) };
      if (!sink) return resolve(result);
      if (exitCode !== 0) {
        // allowFailure: the caller gets the exit code, the reader a broken stream (never a clean end)
        sink.destroy(new ExecError(shownArgv, code, '', hide(stderr), false));
        return resolve(result);
      }
      // resolve once the sink has taken every byte (a file flushed, a pipe drained)
      sink.end();
      finished(sink, (error) => {
        if (error) reject(new ExecError(shownArgv, code, '', `output stream failed: ${hide(error.message)}`, false));
        else resolve(result);
      });
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
    } catch {
      /* try the next directory */
    }
  }
  return false;
}
