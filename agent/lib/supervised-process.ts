// A daemon the agent runs as its child and keeps running (Nebula, rclone, smbd): restarted with
// back-off when it dies, its last output lines kept, its pid in a pid file, stopped by its own pid.
// Started with spawn rather than exec.ts because it is a daemon (exec.ts is for programs that
// finish), with exec.ts's environment minus secrets. A subclass says what to run and reads its
// output; the few ways the daemons differ besides are settings.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { childEnvironment } from '../exec.ts';
import type { Logger } from '../log.ts';
import { terminate } from './processes.ts';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** how long an exited child's output pipes may take to close */
const OUTPUT_DRAIN_MS = 1000;
/** a run this long resets the back-off */
const STABLE_MS = 10_000;

export interface SupervisedSettings {
  /** what the logs call it */
  label: string;
  pidFile: string;
  log: Logger;
  /** how many output lines tail() keeps */
  keepLines: number;
  /** lastExit ends with the last output line (rclone's health reasons show why it stopped) */
  exitWithLastLine?: boolean;
  /** a pending restart does not keep the agent's event loop alive */
  unrefRestart?: boolean;
}

export abstract class SupervisedProcess {
  private readonly settings: SupervisedSettings;
  private child: ChildProcess | undefined;
  private wantedNow = false;
  private backoffMs = BACKOFF_MIN_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private recent: string[] = [];
  /** resolves once the current child's exit was handled (lastExit set, output read) */
  private exitHandled: Promise<void> = Promise.resolve();
  restarts = 0;
  lastExit: string | undefined;

  constructor(settings: SupervisedSettings) {
    this.settings = settings;
  }

  /** The argv of each start (asked again at every restart). */
  protected abstract command(): string[];

  /** Each output line; `current` is false for a child already replaced or being stopped. */
  protected onLine(_line: string, _current: boolean): void {}

  /** The current child exited (why, as lastExit says). */
  protected onExit(_why: string): void {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** true from start() to stop(), also while it waits out a back-off */
  get wanted(): boolean {
    return this.wantedNow;
  }

  /** The last output lines (for health reasons and tests). */
  tail(): string[] {
    return [...this.recent];
  }

  /** Wants it running and starts it now unless it runs (a back-off being waited out is not waited for). */
  start(): void {
    this.wantedNow = true;
    if (!this.running) this.spawnNow();
  }

  /** The next restart waits the shortest back-off again (for a new program). */
  resetBackoff(): void {
    this.backoffMs = BACKOFF_MIN_MS;
  }

  /** Sends a signal to the running child (none when it is not running); true if sent. */
  signal(signal: NodeJS.Signals): boolean {
    return this.running && this.child!.kill(signal);
  }

  async stop(): Promise<void> {
    this.wantedNow = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || !this.running) return;
    await terminate(child);
    await this.exitHandled;
    rmSync(this.settings.pidFile, { force: true });
  }

  private spawnNow(): void {
    const { log, label } = this.settings;
    this.startedAt = Date.now();
    const [program, ...args] = this.command();
    const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...childEnvironment(), LC_ALL: 'C' } });
    this.child = child;
    child.on('error', (error) => log.error({ err: error }, `${label} could not start`));
    if (child.pid) writeFileSync(this.settings.pidFile, `${child.pid}\n`);
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.recent.push(line);
        if (this.recent.length > this.settings.keepLines) this.recent.shift();
        this.onLine(line, child === this.child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    // 'exit' can come before the last output has been read: wait for the pipes to close, but not
    // for ever (a grandchild that inherited them may keep them open)
    this.exitHandled = new Promise((handled) =>
      child.once('exit', (code, signal) => {
        const drained = Promise.all([child.stdout!, child.stderr!].map((s) => (s.readableEnded || s.destroyed ? null : once(s, 'close'))));
        const timer = new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS).unref());
        void Promise.race([drained, timer]).then(() => handled(this.exited(child, code, signal)));
      }),
    );
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const why = signal ? `killed by ${signal}` : `exited with ${code}`;
    this.lastExit = this.settings.exitWithLastLine && this.recent.length ? `${why}: ${this.recent.at(-1)}` : why;
    // a child already replaced is not restarted: its successor runs
    if (this.child !== child) return;
    this.child = undefined;
    this.onExit(this.lastExit);
    if (!this.wantedNow) return;
    if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = BACKOFF_MIN_MS;
    const restartInMs = this.backoffMs;
    this.settings.log.warn({ exit: this.lastExit, restartInMs, last: this.recent.slice(-3) }, `${this.settings.label} stopped; restarting`);
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      if (this.wantedNow) this.spawnNow();
    }, restartInMs);
    if (this.settings.unrefRestart) this.restartTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }
}
