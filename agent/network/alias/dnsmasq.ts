// The station's resolver: dnsmasq, started by the agent in the agent's network namespace, bound to
// the bridge gateway (what nodes use) and optionally loopback. It reads only a hosts file the agent
// writes (no /etc/hosts, no /etc/resolv.conf, no config file) and reloads it on SIGHUP, which takes
// milliseconds. Names under our domain that are not in the file get NXDOMAIN; other names go to
// the upstream servers when some are given.
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../../exec.ts';

export interface DnsmasqOptions {
  /** working directory: hosts file, pid file, log */
  dir: string;
  listen: string[];
  domain: string;
  upstreams: string[];
  port?: number;
}

/** dnsmasq's argv (pure). Daemon mode: it forks, writes its pid file, and the parent exits 0. */
export function dnsmasqArgs(o: DnsmasqOptions): string[] {
  return [
    'dnsmasq',
    '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll',
    // bind-dynamic: the gateway address may appear after us (the node engine makes the bridge)
    '--bind-dynamic', ...o.listen.map((a) => `--listen-address=${a}`),
    `--port=${o.port ?? 53}`,
    `--addn-hosts=${join(o.dir, 'hosts')}`,
    `--local=/${o.domain}/`, '--domain-needed', '--bogus-priv',
    // short TTL: when a node moves, clients must ask again within seconds
    '--local-ttl=2', '--neg-ttl=1', '--cache-size=1000',
    ...o.upstreams.map((s) => `--server=${s}`),
    `--pid-file=${join(o.dir, 'dnsmasq.pid')}`,
    // the hosts file lives under the agent's private state dir (0700): dnsmasq must stay root to re-read it
    '--user=root', '--group=root',
    `--log-facility=${join(o.dir, 'dnsmasq.log')}`,
  ];
}

/** Pure: name servers from resolv.conf text, minus loopback ones (those could be ourselves). */
export function upstreamsFromResolvConf(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1]).filter((a): a is string => !!a && !a.startsWith('127.'));
}

export class DnsmasqResolver {
  private readonly run: Runner;
  private readonly options: DnsmasqOptions;
  private pid: number | null = null;

  constructor(run: Runner, options: DnsmasqOptions) {
    this.run = run;
    this.options = options;
  }

  get hostsFile(): string { return join(this.options.dir, 'hosts'); }
  get running(): boolean { return this.pid !== null && alive(this.pid); }
  get processId(): number | null { return this.pid; }

  async start(initialHosts: string): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    await this.stopStale();
    await writeAtomic(this.hostsFile, initialHosts);
    await this.run(dnsmasqArgs(this.options), { timeoutMs: 10_000 });
    this.pid = await readPid(join(this.options.dir, 'dnsmasq.pid'));
    if (this.pid === null) throw new Error('dnsmasq started but wrote no pid file');
  }

  /** Writes the hosts file and tells dnsmasq to re-read it (SIGHUP also clears its cache). */
  async update(hosts: string): Promise<void> {
    await writeAtomic(this.hostsFile, hosts);
    if (this.pid !== null) process.kill(this.pid, 'SIGHUP');
  }

  async stop(): Promise<void> {
    const pid = this.pid;
    this.pid = null;
    if (pid !== null) await terminate(pid);
    await rm(join(this.options.dir, 'dnsmasq.pid'), { force: true });
  }

  /** A dnsmasq left by a killed agent (same pid file, same hosts file) is ours: end it. */
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
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}
