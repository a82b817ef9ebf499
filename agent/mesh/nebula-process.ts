// Runs Nebula as the agent's child and keeps it running: restarted with backoff when it dies,
// reloaded with SIGHUP (Nebula re-reads its config without dropping tunnels). Started directly with
// spawn rather than exec.ts because it is a daemon: exec.ts is for programs that finish.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { childEnvironment } from '../exec.ts';
import { endStale, terminate } from '../lib/processes.ts';
import type { Logger } from '../log.ts';
import { parseNebulaLogLine, type NebulaLogEvent } from './nebula-log.ts';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** a run this long resets the backoff */
const STABLE_MS = 10_000;
const LOG_CAP_BYTES = 1024 * 1024;

export interface NebulaProcessOptions {
  configFile: string;
  pidFile: string;
  /** Nebula's own log lines are kept here (capped) for people and for diagnosis */
  logFile: string;
  log: Logger;
  onEvent?: (event: NebulaLogEvent) => void;
}

export class NebulaProcess {
  private readonly options: NebulaProcessOptions;
  private child: ChildProcess | undefined;
  private wanted = false;
  private backoffMs = BACKOFF_MIN_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  restarts = 0;
  lastExit: string | undefined;
  private recent: string[] = [];

  constructor(options: NebulaProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last log lines (for health reasons and tests). */
  tail(): string[] {
    return [...this.recent];
  }

  start(): void {
    this.wanted = true;
    if (!this.running) this.spawnNow();
  }

  /** SIGHUP: Nebula re-reads lighthouses, blocklist, firewall and CAs while keeping tunnels. */
  reload(): void {
    if (this.running) this.child!.kill('SIGHUP');
    else this.start();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || !this.running) return;
    await terminate(child);
    rmSync(this.options.pidFile, { force: true });
  }

  /** A Nebula left over from an agent that was killed would hold the tun device: end it (ours only). */
  static killStale(pidFile: string, configFile: string): void {
    endStale(pidFile, 'nebula', configFile);
  }

  private append(line: string): void {
    try {
      // Keep the file bounded: start over past 1 MiB (the last 200 lines stay in memory).
      if ((statSync(this.options.logFile, { throwIfNoEntry: false })?.size ?? 0) > LOG_CAP_BYTES) writeFileSync(this.options.logFile, '');
      appendFileSync(this.options.logFile, `${line}\n`, { mode: 0o600 });
    } catch {
      /* the log file is a convenience; never let it stop the mesh */
    }
  }

  private spawnNow(): void {
    const { log } = this.options;
    this.startedAt = Date.now();
    const child = spawn('nebula', ['-config', this.options.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...childEnvironment(), LC_ALL: 'C' },
    });
    this.child = child;
    child.on('error', (error) => log.error({ err: error }, 'nebula could not start'));
    if (child.pid) writeFileSync(this.options.pidFile, `${child.pid}\n`);
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.recent.push(line);
        this.append(line);
        if (this.recent.length > 200) this.recent.shift();
        const event = parseNebulaLogLine(line);
        if (event) this.options.onEvent?.(event);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      this.lastExit = signal ? `killed by ${signal}` : `exited with ${code}`;
      if (this.child === child) this.child = undefined;
      if (!this.wanted) return;
      if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = BACKOFF_MIN_MS;
      log.warn({ exit: this.lastExit, restartInMs: this.backoffMs, last: this.recent.slice(-3) }, 'nebula stopped; restarting');
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        if (this.wanted) this.spawnNow();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    });
  }
}
