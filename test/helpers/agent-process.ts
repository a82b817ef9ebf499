// Runs the real agent as a child process (optionally inside a test namespace) with its own state
// directory and port, the way the station runs it, and stops it at cleanup (by pid).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';
import { stationPool } from './loop-pool.ts';
import { RUN_PREFIX } from './run-prefix.ts';
import { readAdminToken } from '../../agent/auth/admin-token.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface AgentHandle {
  child: ChildProcess;
  baseUrl: string;
  stateDir: string;
  token: string;
  logs: () => string;
  /** fetch against the agent; adds the admin token when `auth` is true */
  api: (path: string, init?: RequestInit & { auth?: boolean; json?: unknown }) => Promise<Response>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface AgentOptions {
  env?: Record<string, string>;
  stateDir?: string;
  port?: number;
  /** run inside this network namespace; the API is then reached at `host` inside it */
  netns?: string;
  host?: string;
  /** run the compiled dist/ build (what the station runs) instead of the .ts sources */
  compiled?: boolean;
  readyTimeoutMs?: number;
  /**
   * Where node volumes live: 'dir' (default: plain directories in the state directory, nothing
   * mounted, so a test that does not care leaves no loop device behind) or 'btrfs' (a loop-backed
   * pool made and mounted for this agent, unmounted at cleanup; poolMb its size, default 512).
   */
  storage?: 'dir' | 'btrfs';
  poolMb?: number;
}

/** True when this process is not inside a named (test) network namespace, i.e. in the machine's own. */
export async function inMachineNetns(): Promise<boolean> {
  const { exec } = await import('../../agent/exec.ts');
  const named = (await exec(['ip', 'netns', 'identify', String(process.pid)], { allowFailure: true })).stdout.trim();
  return named === '';
}

const loadAverage = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
};

let nextPort = 20000 + Math.floor(Math.random() * 20000);

export async function startAgent(options: AgentOptions = {}): Promise<AgentHandle> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-state-`)));
  if (!options.stateDir) onCleanup(`state dir ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  // registered after the state dir: unmounted before it is removed (cleanups run newest first)
  const storage = options.storage === 'btrfs' ? (await stationPool(stateDir, options.poolMb)).env : { STATION_STORAGE_DRIVER: 'dir' };
  // Outside a test namespace, the subsystems that make bridges, NAT, tunnels or announcements stay
  // off: a test must never change the machine's own network.
  const hostSafe = options.netns || !(await inMachineNetns()) ? {} : { STATION_DISABLE: 'nodes,network,mesh,discovery,wifi,fleet' };
  const port = options.port ?? nextPort++;
  const host = options.host ?? '127.0.0.1';
  const entry = options.compiled ? join(ROOT, 'dist/agent/main.js') : join(ROOT, 'agent/main.ts');
  const argv = options.netns ? ['ip', 'netns', 'exec', options.netns, process.execPath, entry] : [process.execPath, entry];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: {
      ...process.env,
      STATION_STATE_DIR: stateDir,
      STATION_HTTP_HOST: host,
      STATION_HTTP_PORT: String(port),
      STATION_NAME: options.env?.STATION_NAME ?? 'test-station',
      STATION_LOG_LEVEL: 'info',
      ...storage,
      ...hostSafe,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  onCleanup(`agent pid ${child.pid}`, () => stop('SIGKILL'));
  const baseUrl = `http://${host}:${port}`;
  const fetchIn = (url: string, init?: RequestInit) => (options.netns ? fetchInNetns(options.netns, url, init) : fetch(url, init));
  // Wait for the agent's own signal (/ready answers 200) while it runs; an agent that exits fails at
  // once. The ceiling is only a safety net: on a loaded 2-core machine loading the sources alone
  // has taken more than 15 s.
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode} before ready:\n${output}`);
    try {
      if ((await fetchIn(`${baseUrl}/api/v1/ready`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`agent not ready after ${readyTimeoutMs} ms (load average ${loadAverage()}):\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const token = await readAdminToken(stateDir);
  return {
    child,
    baseUrl,
    stateDir,
    token,
    logs: () => output,
    stop,
    api: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (init.auth) headers.set('authorization', `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetchIn(`${baseUrl}${path}`, { ...init, headers, body });
    },
  };
}

/**
 * fetch() from inside a namespace: Node cannot switch namespaces per socket, so the request is made
 * by curl run in the namespace (real HTTP, same as any client on that network).
 */
export async function fetchInNetns(netns: string, url: string, init: RequestInit = {}): Promise<Response> {
  const { exec } = await import('../../agent/exec.ts');
  // A node create answers when the node is built (a Debian template with packages: tens of seconds on
  // a loaded 2-core machine), so a request may take as long as a user's curl would wait for it.
  const args = ['curl', '-sS', '-i', '--max-time', '180', '-X', init.method ?? 'GET'];
  new Headers(init.headers).forEach((v, k) => {
    args.push('-H', `${k}: ${v}`);
  });
  if (init.body !== undefined && init.body !== null) args.push('--data-binary', '@-');
  args.push(url);
  const out = await exec(args, { netns, input: typeof init.body === 'string' ? init.body : undefined, timeoutMs: 190_000 });
  const text = out.stdout;
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split).split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return new Response(status === 204 ? null : text.slice(split + 4), { status, headers });
}
