// The station's resolver: dnsmasq, started by the agent in the agent's network namespace, bound to
// the bridge gateway (what nodes use) and optionally loopback. It reads only a hosts file the agent
// writes (no /etc/hosts, no /etc/resolv.conf, no config file) and reloads it on SIGHUP, which takes
// milliseconds. Names under our domain that are not in the file get NXDOMAIN; other names go to
// the upstream servers when some are given.
// dnsmasq is a daemon, so it is spawned directly (exec.ts is for programs that finish), in the
// foreground as the agent's child, under `setpriv --pdeathsig KILL`: if the agent is killed, its
// resolver goes with it instead of lingering with stale answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { childEnvironment, hasProgram } from '../../exec.ts';

export interface DnsmasqOptions {
  /** run inside this network namespace (tests); the station runs it in the agent's own */
  netns?: string;
  /** working directory: hosts file, pid file, log */
  dir: string;
  listen: string[];
  domain: string;
  upstreams: string[];
  port?: number;
}

/** dnsmasq's argv (pure). */
export function dnsmasqArgs(o: DnsmasqOptions): string[] {
  return [
    'dnsmasq',
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    // bind-dynamic: the gateway address may appear after us (the node engine makes the bridge)
    '--bind-dynamic',
    ...o.listen.map((a) => `--listen-address=${a}`),
    `--port=${o.port ?? 53}`,
    `--addn-hosts=${join(o.dir, 'hosts')}`,
    `--local=/${o.domain}/`,
    '--domain-needed',
    '--bogus-priv',
    // short TTL: when a node moves, clients must ask again within seconds
    '--local-ttl=2',
    '--neg-ttl=1',
    '--cache-size=1000',
    ...o.upstreams.map((s) => `--server=${s}`),
    `--pid-file=${join(o.dir, 'dnsmasq.pid')}`,
    // the hosts file lives under the agent's private state dir (0700): dnsmasq must stay root to re-read it
    '--user=root',
    '--group=root',
    `--log-facility=${join(o.dir, 'dnsmasq.log')}`,
  ];
}

/** Pure: name servers from resolv.conf text, minus loopback ones (those could be ourselves). */
export function upstreamsFromResolvConf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1])
    .filter((a): a is string => !!a && !a.startsWith('127.'));
}

/** restart back-off after dnsmasq dies: 1 s, doubling while it keeps failing, at most 30 s */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;

export class DnsmasqResolver {
  private readonly options: DnsmasqOptions;
  private child: ChildProcess | undefined;
  private output = '';
  private wanted = false;
  /** the hosts text dnsmasq serves (what a restart starts with) */
  private hosts = '';
  /** the newest text not yet written, and the one write loop that writes it */
  private pendingHosts: string | undefined;
  private writing: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs = RESTART_FIRST_MS;
  /** why it last stopped when it was not asked to */
  lastExit: string | undefined;
  /** how often it was started again after dying */
  restarts = 0;

  constructor(options: DnsmasqOptions) {
    this.options = options;
  }

  get hostsFile(): string {
    return join(this.options.dir, 'hosts');
  }
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  get processId(): number | null {
    return this.running ? (this.child!.pid ?? null) : null;
  }

  /** Starts dnsmasq and waits until it serves (its pid file appears) or fails. */
  async start(initialHosts: string): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    await this.stopStale();
    this.hosts = initialHosts;
    await writeAtomic(this.hostsFile, initialHosts);
    this.wanted = true;
    try {
      await this.spawnAndWait();
    } catch (error) {
      // a resolver that never came up is not restarted behind the caller's back
      this.wanted = false;
      clearTimeout(this.restartTimer);
      throw error;
    }
  }

  /**
   * Writes the hosts file and tells dnsmasq to re-read it (SIGHUP also clears its cache). Changes
   * arrive in bursts (peers are pulled in parallel): one write loop writes them in order, and a
   * change that comes while a write is under way is written right after it, so the file and
   * dnsmasq always end with the newest names, and every caller's promise settles after that.
   */
  update(hosts: string): Promise<void> {
    this.pendingHosts = hosts;
    this.writing ??= this.writeLoop();
    return this.writing;
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
      await exited;
      clearTimeout(timer);
    }
    await rm(join(this.options.dir, 'dnsmasq.pid'), { force: true });
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.pendingHosts !== undefined) {
        const text = this.pendingHosts;
        this.pendingHosts = undefined;
        await writeAtomic(this.hostsFile, text);
        this.hosts = text;
        if (this.running) this.child!.kill('SIGHUP');
      }
    } finally {
      // no await between the loop's last check and here: a later update() starts a new loop
      this.writing = undefined;
    }
  }

  private async spawnAndWait(): Promise<void> {
    const pidFile = join(this.options.dir, 'dnsmasq.pid');
    await rm(pidFile, { force: true });
    const guard = (await hasProgram('setpriv')) ? ['setpriv', '--pdeathsig', 'KILL'] : [];
    const argv = [...(this.options.netns ? ['ip', 'netns', 'exec', this.options.netns] : []), ...guard, ...dnsmasqArgs(this.options)];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...childEnvironment(), LC_ALL: 'C' } });
    this.child = child;
    this.output = '';
    const collect = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-2000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('exit', (code, signal) => {
      if (!this.wanted || child !== this.child) return;
      this.lastExit = `dnsmasq exited (${signal ?? code}): ${this.output.trim().split('\n').slice(-2).join(' | ')}`;
      this.scheduleRestart();
    });
    child.once('error', (e) => {
      this.lastExit = `dnsmasq could not start: ${e.message}`;
    });
    for (let i = 0; i < 250; i++) {
      if (!this.running) throw new Error(this.lastExit ?? `dnsmasq exited: ${this.output.trim()}`);
      if ((await readPid(pidFile)) !== null) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('dnsmasq did not come up within 5 s');
  }

  /** A resolver that died is started again with the names it served, backing off while it keeps failing. */
  private scheduleRestart(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.wanted) return;
      this.restarts++;
      writeAtomic(this.hostsFile, this.hosts)
        .then(() => this.spawnAndWait())
        .then(
          () => {
            this.restartDelayMs = RESTART_FIRST_MS;
          },
          (error: Error) => {
            this.lastExit = error.message;
            this.restartDelayMs = Math.min(this.restartDelayMs * 2, RESTART_MAX_MS);
            if (this.wanted && !this.running) this.scheduleRestart();
          },
        );
    }, this.restartDelayMs);
    this.restartTimer.unref();
  }

  /** A dnsmasq left by an agent that died without setpriv (same pid file) is ours: end it. */
  private async stopStale(): Promise<void> {
    const pidFile = join(this.options.dir, 'dnsmasq.pid');
    const pid = await readPid(pidFile);
    if (pid === null || !alive(pid)) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('dnsmasq') && cmdline.includes(pidFile)) await terminate(pid);
  }
}

async function readPid(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 1 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
}

let writeSerial = 0;

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${++writeSerial}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}
