// Runs `rclone serve restic` as the agent's child and keeps it running: restarted with back-off
// when it dies, stopped (only the pid it started) on stop. Started with spawn rather than exec.ts
// because it is a daemon (exec.ts is for programs that finish), with exec.ts's environment minus
// secrets, like Nebula (agent/mesh/nebula-process.ts). `setpriv --pdeathsig KILL` ends it with an
// agent that is killed outright; a pid file lets the next agent end one left over anyway.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { childEnvironment } from '../../exec.ts';
import { endStale, terminate } from '../../lib/processes.ts';
import type { Logger } from '../../log.ts';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** a run this long resets the back-off */
const STABLE_MS = 10_000;
/** rclone's own line once it listens (its readiness signal) */
const SERVING = /Serving restic REST API on (\S+)/;

export interface RcloneServeOptions {
  /** HOST:PORT to listen on */
  addr: string;
  htpasswd: string;
  dir: string;
  appendOnly: boolean;
  /** each user only under /<user>/ (the store); off for a prune window, which serves one repository as its root */
  privateRepos?: boolean;
}

/** The argv of the store (pure): private repositories, htpasswd users, no rclone config file read. */
export function rcloneServeArgv(o: RcloneServeOptions): string[] {
  return [
    'rclone',
    'serve',
    'restic',
    ...(o.appendOnly ? ['--append-only'] : []),
    ...(o.privateRepos === false ? [] : ['--private-repos']),
    '--htpasswd',
    o.htpasswd,
    '--addr',
    o.addr,
    '--config',
    '/dev/null',
    o.dir,
  ];
}

export interface RcloneProcessOptions {
  pidFile: string;
  log: Logger;
  /** setpriv is there to tie rclone's life to the agent's (PeerStore.start looks) */
  setpriv: boolean;
  onServing?: (url: string) => void;
  onExit?: (why: string) => void;
  /** the line that says it listens (default rclone serve restic's; its first group is passed to onServing) */
  ready?: RegExp;
  /** what the logs call it (default rclone) */
  label?: string;
}

export class RcloneProcess {
  readonly options: RcloneProcessOptions;
  private child: ChildProcess | undefined;
  private argv: string[] = [];
  private wanted = false;
  private backoffMs = BACKOFF_MIN_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  restarts = 0;
  lastExit: string | undefined;
  /** true once rclone said it serves, until it exits */
  serving = false;
  private recent: string[] = [];

  constructor(options: RcloneProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What it runs now ([] when stopped). */
  get current(): readonly string[] {
    return this.wanted ? this.argv : [];
  }

  tail(): string[] {
    return [...this.recent];
  }

  /** Runs argv (restarting the process when it runs something else). */
  async run(argv: string[]): Promise<void> {
    // the same program wanted already: running, or waiting out its back-off (restarting it now would skip that)
    if (this.wanted && JSON.stringify(argv) === JSON.stringify(this.argv)) return;
    await this.stop();
    this.argv = argv;
    this.wanted = true;
    this.backoffMs = BACKOFF_MIN_MS;
    this.spawnNow();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || !this.running) return;
    await terminate(child);
    rmSync(this.options.pidFile, { force: true });
  }

  /** An rclone left by an agent that died (its pid file, serving `dir`) is ours: end it. */
  static killStale(pidFile: string, dir: string): void {
    endStale(pidFile, 'rclone', dir);
  }

  private spawnNow(): void {
    const { log } = this.options;
    this.startedAt = Date.now();
    this.serving = false;
    const argv = this.options.setpriv ? ['setpriv', '--pdeathsig', 'KILL', ...this.argv] : this.argv;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...childEnvironment(), LC_ALL: 'C' } });
    this.child = child;
    child.on('error', (error) => log.error({ err: error }, `${this.options.label ?? 'rclone'} could not start`));
    if (child.pid) writeFileSync(this.options.pidFile, `${child.pid}\n`);
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.recent.push(line);
        if (this.recent.length > 50) this.recent.shift();
        const serving = (this.options.ready ?? SERVING).exec(line);
        if (serving && child === this.child) {
          this.serving = true;
          this.options.onServing?.(serving[1] ?? '');
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      this.lastExit = `${signal ? `killed by ${signal}` : `exited with ${code}`}${this.recent.length ? `: ${this.recent.at(-1)}` : ''}`;
      if (this.child !== child) return;
      this.child = undefined;
      this.serving = false;
      this.options.onExit?.(this.lastExit);
      if (!this.wanted) return;
      if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = BACKOFF_MIN_MS;
      log.warn({ exit: this.lastExit, restartInMs: this.backoffMs }, `${this.options.label ?? 'rclone'} stopped; restarting`);
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        if (this.wanted) this.spawnNow();
      }, this.backoffMs);
      this.restartTimer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    });
  }
}
