// Runs `rclone serve restic` (or another server: smbd, rclone serve webdav) as the agent's child and
// keeps it running (agent/lib/supervised-process.ts: restarted with back-off when it dies, stopped by
// its own pid), and says when it serves. `setpriv --pdeathsig KILL` ends it with an agent that is
// killed outright; a pid file lets the next agent end one left over anyway.
import { endStale } from '../../lib/processes.ts';
import { SupervisedProcess } from '../../lib/supervised-process.ts';
import type { Logger } from '../../log.ts';

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

export class RcloneProcess extends SupervisedProcess {
  readonly options: RcloneProcessOptions;
  private readonly ready: RegExp;
  private argv: string[] = [];
  /** true once rclone said it serves, until it exits */
  serving = false;

  constructor(options: RcloneProcessOptions) {
    // its health reasons show rclone's own last word on why it stopped (exitWithLastLine)
    super({ label: options.label ?? 'rclone', pidFile: options.pidFile, log: options.log, keepLines: 50, exitWithLastLine: true, unrefRestart: true });
    this.options = options;
    this.ready = options.ready ?? SERVING;
  }

  /** What it runs now ([] when stopped). */
  get current(): readonly string[] {
    return this.wanted ? this.argv : [];
  }

  /** Runs argv (restarting the process when it runs something else). */
  async run(argv: string[]): Promise<void> {
    // the same program wanted already: running, or waiting out its back-off (restarting it now would skip that)
    if (this.wanted && JSON.stringify(argv) === JSON.stringify(this.argv)) return;
    await this.stop();
    this.argv = argv;
    this.serving = false;
    this.resetBackoff();
    this.start();
  }

  /** An rclone left by an agent that died (its pid file, serving `dir`) is ours: end it. */
  static killStale(pidFile: string, dir: string): void {
    endStale(pidFile, 'rclone', dir);
  }

  protected override command(): string[] {
    return this.options.setpriv ? ['setpriv', '--pdeathsig', 'KILL', ...this.argv] : this.argv;
  }

  protected override onLine(line: string, current: boolean): void {
    const serving = this.ready.exec(line);
    if (!serving || !current) return;
    this.serving = true;
    this.options.onServing?.(serving[1] ?? '');
  }

  protected override onExit(why: string): void {
    this.serving = false;
    this.options.onExit?.(why);
  }
}
