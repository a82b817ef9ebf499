// The agents of the testbed: one real station agent per station namespace (which starts its own
// Nebula), started detached so the testbed outlives the command that made it; ended by pid.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { API_PORT, NEBULA_PORT, type StationPlan } from './topology.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface StationRecord {
  name: string;
  netns: string;
  api: string;
  publicIp: string;
  public: boolean;
  doubleNat: boolean;
  stateDir: string;
  logFile: string;
  pid: number;
}

export function stationEnv(s: StationPlan, stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    STATION_STATE_DIR: stateDir,
    STATION_HTTP_HOST: '0.0.0.0',
    STATION_HTTP_PORT: String(API_PORT),
    STATION_NAME: s.name,
    STATION_LOG_LEVEL: 'info',
    STATION_MDNS: 'off',
    STATION_MESH_LISTEN_PORT: String(NEBULA_PORT),
    // test address ranges only: nodes before joining, and the authority's pool of node subnets
    // (each CA is limited to its own node subnets, and owners who trust each other must not share
    // any: neighbouring stations, e.g. two owners' authorities, get different halves of the /18)
    STATION_NODE_SUBNET: `198.19.${50 + s.index}.0/24`,
    STATION_MESH_NODE_POOL: `198.19.${s.index % 2 ? 192 : 224}.0/19`,
    ...(s.public ? { STATION_MESH_PUBLIC_ENDPOINT: `${s.publicIp}:${NEBULA_PORT}` } : {}),
    ...extra,
  };
}

/** Starts the agent in the station's namespace; returns its pid (the node process: ip netns exec execs). */
export function spawnAgent(s: StationPlan, dir: string, extraEnv: Record<string, string> = {}): StationRecord {
  const stateDir = join(dir, s.name, 'state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const logFile = join(dir, s.name, 'agent.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', s.netns, process.execPath, '--max-semi-space-size=1', join(ROOT, 'agent/main.ts')], {
    env: { ...process.env, ...stationEnv(s, stateDir, extraEnv) },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  child.unref();
  closeSync(fd);
  return {
    name: s.name,
    netns: s.netns,
    api: s.api,
    publicIp: s.publicIp,
    public: s.public,
    doubleNat: s.carrier !== null,
    stateDir,
    logFile,
    pid: child.pid!,
  };
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Ends the agent by pid (SIGTERM, then SIGKILL after 10 s); Nebula, its child, stops with it.
 * With SIGKILL (a crash), Nebula is orphaned; the next agent on that state directory ends it.
 */
export async function stopAgent(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
}

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
}

/** An HTTP call to a station's API from inside its namespace (curl: Node cannot switch namespaces). */
// biome-ignore lint/suspicious/noExplicitAny: callers (tests, the testbed CLI) read the answers as untyped JSON
export async function stationApi<T = any>(st: StationRecord, method: string, path: string, body?: unknown, timeoutS = 30): Promise<ApiResult<T>> {
  const args = ['curl', '-sS', '--max-time', String(timeoutS), '-o', '-', '-w', '\n%{http_code}', '-X', method];
  if (method !== 'GET') {
    args.push('-H', `authorization: Bearer ${readFileSync(join(st.stateDir, 'admin-token'), 'utf8').trim()}`);
    args.push('-H', 'content-type: application/json', '--data-binary', '@-');
  }
  args.push(`${st.api}/api/v1${path}`);
  const out = await exec(args, {
    netns: st.netns,
    input: method !== 'GET' ? JSON.stringify(body ?? {}) : undefined,
    timeoutMs: (timeoutS + 5) * 1000,
  });
  const nl = out.stdout.lastIndexOf('\n');
  const text = out.stdout.slice(0, nl);
  return { status: Number(out.stdout.slice(nl + 1)), body: (text ? JSON.parse(text) : undefined) as T };
}

export async function waitReady(st: StationRecord, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(st.pid)) throw new Error(`agent ${st.name} exited; log ${st.logFile}:\n${readFileSync(st.logFile, 'utf8').slice(-2000)}`);
    const r = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `${st.api}/api/v1/ready`], {
      netns: st.netns,
      allowFailure: true,
    });
    if (r.stdout === '200') return;
    if (Date.now() > deadline) throw new Error(`agent ${st.name} not ready after ${timeoutMs} ms; log ${st.logFile}`);
    await new Promise((r2) => setTimeout(r2, 100));
  }
}

/** One ping over the mesh from a station's namespace; true when it answered. */
export async function meshPing(st: StationRecord, address: string, waitS = 1): Promise<boolean> {
  const r = await exec(['ping', '-c', '1', '-W', String(waitS), '-n', address], {
    netns: st.netns,
    allowFailure: true,
    timeoutMs: (waitS + 10) * 1000,
  }).catch(() => undefined);
  return r?.exitCode === 0;
}

/**
 * Pings many addresses at once from one station (one namespace entry, pings in parallel inside):
 * far cheaper than one `ip netns exec` per pair when checking all pairs of a large testbed.
 * Returns the addresses that answered.
 */
export async function meshPingMany(st: StationRecord, addresses: string[], waitS = 1): Promise<Set<string>> {
  if (!addresses.every((a) => /^[\d.]+$/.test(a))) throw new Error('meshPingMany takes IPv4 addresses');
  const script = `${addresses.map((a) => `ping -c 1 -W ${waitS} -n ${a} &`).join(' ')} wait`;
  const r = await exec(['sh', '-c', script], { netns: st.netns, allowFailure: true, timeoutMs: (waitS + 20) * 1000 }).catch(() => undefined);
  return answeredPings(r?.stdout ?? '');
}

/** The addresses that replied, from the concatenated output of several `ping -n` runs. */
export function answeredPings(stdout: string): Set<string> {
  return new Set([...stdout.matchAll(/^\d+ bytes from ([\d.]+): icmp_seq=/gm)].map((m) => m[1]!));
}
