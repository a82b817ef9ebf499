// The agent's one smbd: its own config, passdb, locks and state under <stateDir>/disk/samba, run in
// the foreground as the agent's child (supervised like the copy store's rclone: restarted with
// back-off, stopped with the agent, only the pid it started). smbd and pdbedit run in a private
// mount namespace where smbd's own passwd file is bind-mounted over /etc/passwd (smb-conf.ts says
// why): `unshare -m` makes the mount private to that process, so the machine sees nothing of it.
import { mkdir, readFile } from 'node:fs/promises';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../../exec.ts';
import type { Logger } from '../../log.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import { RcloneProcess } from '../store/rclone-process.ts';

/** Runs argv with `passwd` bind-mounted over /etc/passwd, in a mount namespace of its own. */
export const withPasswd = (passwd: string, argv: string[]): string[] => [
  'unshare',
  '-m',
  'sh',
  '-c',
  'mount --bind "$0" /etc/passwd && exec "$@"',
  passwd,
  ...argv,
];

/** `pdbedit -L` lines (user:uid:full name) -> the user names. */
export const parsePdbeditList = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => /^([^:\s]+):\d+:/.exec(l)?.[1])
    .filter((u): u is string => u !== undefined);

export class SambaServer {
  readonly dir: string;
  readonly confFile: string;
  readonly passwdFile: string;
  private readonly pidFile: string;
  private readonly process: RcloneProcess;
  private readonly run: Runner;
  private lastConf = '';

  constructor(stateDir: string, run: Runner, log: Logger) {
    this.dir = join(stateDir, 'disk', 'samba');
    this.confFile = join(this.dir, 'smb.conf');
    this.passwdFile = join(this.dir, 'passwd');
    this.pidFile = join(this.dir, 'agent-smbd.pid');
    this.run = run;
    // -d 2 makes smbd say "waiting for connections" once it listens: its readiness signal
    this.process = new RcloneProcess({ pidFile: this.pidFile, log, setpriv: true, label: 'smbd', ready: /(waiting for connections)/ });
  }

  set setpriv(on: boolean) {
    this.process.options.setpriv = on;
  }

  get serving(): boolean {
    return this.process.serving;
  }

  get restarts(): number {
    return this.process.restarts;
  }

  get lastExit(): string | undefined {
    return this.process.lastExit;
  }

  get running(): boolean {
    return this.process.current.length > 0;
  }

  /** Writes the config and passwd file; (re)starts smbd when either changed or it is not running. */
  async apply(conf: string, passwd: string): Promise<void> {
    await this.prepare(conf, passwd);
    if (this.running && conf + passwd === this.lastConf) return;
    this.lastConf = conf + passwd;
    // a changed interface list, a share or user removed: a fresh smbd drops every session of the old
    await this.process.stop();
    // Not --no-process-group: smbd ends its whole process group when it stops (measured: its
    // kill(0, SIGTERM) took the agent and the test that ran it along); in a session of its own
    // (setsid, smbd's default) it ends only its own children.
    await this.process.run(withPasswd(this.passwdFile, ['smbd', '--foreground', '--debug-stdout', '-d', '2', `--configfile=${this.confFile}`]));
  }

  /** The files only (pdbedit needs them before smbd runs). */
  async prepare(conf: string, passwd: string): Promise<void> {
    for (const sub of ['', 'private', 'lock', 'run', 'state', 'cache', 'ncalrpc']) await mkdir(join(this.dir, sub), { recursive: true, mode: 0o700 });
    if ((await readFile(this.confFile, 'utf8').catch(() => '')) !== conf) await writeFileAtomic(this.confFile, conf, 0o600);
    if ((await readFile(this.passwdFile, 'utf8').catch(() => '')) !== passwd) await writeFileAtomic(this.passwdFile, passwd, 0o644);
  }

  async stop(): Promise<void> {
    this.lastConf = '';
    await this.process.stop();
  }

  /** Adds (or replaces) a user in smbd's passdb: samba keeps its NT hash, never the password. */
  async setUser(user: string, password: string): Promise<void> {
    await this.run(withPasswd(this.passwdFile, ['pdbedit', `--configfile=${this.confFile}`, '-a', '-u', user, '-t']), {
      input: `${password}\n${password}\n`,
      secrets: [password],
    });
  }

  async removeUser(user: string): Promise<void> {
    await this.run(withPasswd(this.passwdFile, ['pdbedit', `--configfile=${this.confFile}`, '-x', '-u', user]), { allowFailure: true });
  }

  async users(): Promise<string[]> {
    const r = await this.run(withPasswd(this.passwdFile, ['pdbedit', `--configfile=${this.confFile}`, '-L']), { allowFailure: true });
    return r.exitCode === 0 ? parsePdbeditList(r.stdout) : [];
  }

  /** An smbd left by an agent that died (its pid file, running our config) is ours: end it. */
  killStale(): void {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((a) => a.endsWith('smbd')) && cmdline.includes(`--configfile=${this.confFile}`)) process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    rmSync(this.pidFile, { force: true });
  }
}
