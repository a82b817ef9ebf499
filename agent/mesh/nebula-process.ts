// Runs Nebula as the agent's child and keeps it running (agent/lib/supervised-process.ts: restarted
// with back-off when it dies, stopped by its own pid), reloaded with SIGHUP (Nebula re-reads its
// config without dropping tunnels); its log lines go to a capped file and become mesh events.
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { endStale } from '../lib/processes.ts';
import { SupervisedProcess } from '../lib/supervised-process.ts';
import type { Logger } from '../log.ts';
import { parseNebulaLogLine, type NebulaLogEvent } from './nebula-log.ts';

const LOG_CAP_BYTES = 1024 * 1024;

export interface NebulaProcessOptions {
  configFile: string;
  pidFile: string;
  /** Nebula's own log lines are kept here (capped) for people and for diagnosis */
  logFile: string;
  log: Logger;
  onEvent?: (event: NebulaLogEvent) => void;
}

export class NebulaProcess extends SupervisedProcess {
  private readonly options: NebulaProcessOptions;

  constructor(options: NebulaProcessOptions) {
    super({ label: 'nebula', pidFile: options.pidFile, log: options.log, keepLines: 200 });
    this.options = options;
  }

  /** SIGHUP: Nebula re-reads lighthouses, blocklist, firewall and CAs while keeping tunnels. */
  reload(): void {
    if (!this.signal('SIGHUP')) this.start();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  /** A Nebula left over from an agent that was killed would hold the tun device: end it (ours only). */
  static killStale(pidFile: string, configFile: string): void {
    endStale(pidFile, 'nebula', configFile);
  }

  protected override command(): string[] {
    return ['nebula', '-config', this.options.configFile];
  }

  protected override onLine(line: string): void {
    this.append(line);
    const event = parseNebulaLogLine(line);
    if (event) this.options.onEvent?.(event);
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
}
