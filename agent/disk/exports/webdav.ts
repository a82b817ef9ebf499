// WebDAV exports: one `rclone serve webdav` per export and address (rclone 1.60 binds one address
// per process), each supervised like the copy store's rclone (agent/disk/store/rclone-process.ts).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../log.ts';
import { RcloneProcess } from '../store/rclone-process.ts';

export interface WebdavOptions {
  addr: string;
  htpasswd: string;
  dir: string;
  readOnly: boolean;
}

/** The argv (pure): basic auth from the export's own htpasswd file, no rclone config read, listings fresh within 2 s. */
export const webdavArgv = (o: WebdavOptions): string[] => [
  'rclone',
  'serve',
  'webdav',
  ...(o.readOnly ? ['--read-only'] : []),
  '--htpasswd',
  o.htpasswd,
  '--addr',
  o.addr,
  '--realm',
  'station',
  // a file the node writes shows in listings within this (rclone's default caches them for 5 min)
  '--dir-cache-time',
  '2s',
  '--config',
  '/dev/null',
  o.dir,
];

const READY = /WebDav Server started on (\S+)/;

/** The WebDAV servers of every export: runs exactly the set it is given, stops the rest. */
export class WebdavServers {
  private readonly servers = new Map<string, RcloneProcess>();
  private readonly dir: string;
  private readonly log: Logger;
  setpriv = true;

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.log = log;
  }

  private pidFile = (key: string): string => join(this.dir, `${key.replace(/[^0-9a-z.]/gi, '_')}.pid`);

  /** Runs these (key = export id @ address) and stops every other. */
  async apply(wanted: Map<string, WebdavOptions>): Promise<void> {
    for (const [key, server] of this.servers) {
      if (wanted.has(key)) continue;
      await server.stop();
      this.servers.delete(key);
    }
    for (const [key, options] of wanted) {
      let server = this.servers.get(key);
      if (!server) {
        server = new RcloneProcess({
          pidFile: this.pidFile(key),
          log: this.log.child({ export: key }),
          setpriv: this.setpriv,
          label: 'rclone webdav',
          ready: READY,
        });
        this.servers.set(key, server);
      }
      await server.run(webdavArgv(options));
    }
  }

  /** Whether every server of this export serves, and the last failure of one that does not. */
  state(id: string): { serving: boolean; failure: string | null } {
    const mine = [...this.servers].filter(([k]) => k.startsWith(`${id}@`)).map(([, s]) => s);
    const serving = mine.length > 0 && mine.every((s) => s.serving);
    const failed = mine.find((s) => !s.serving && s.lastExit);
    return { serving, failure: failed?.lastExit ?? null };
  }

  async stop(): Promise<void> {
    await this.apply(new Map());
  }

  /** Servers an agent that died left behind: a pid file here whose process is an rclone webdav reading an htpasswd file of this directory. */
  static killStale(dir: string): void {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.pid'));
    } catch {
      return;
    }
    for (const f of files) {
      const pidFile = join(dir, f);
      try {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (cmdline.some((a) => a.endsWith('rclone')) && cmdline.includes('webdav') && cmdline.some((a) => a.startsWith(`${dir}/`)))
          process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      rmSync(pidFile, { force: true });
    }
  }
}
