// The testbed, usable from TypeScript (tests, benchmarks, other capabilities' 3-station tests) and
// from the shell (scripts/testbed). N stations, each in its own namespace behind its own home NAT,
// some behind a second NAT layer, joined by a simulated internet, each running the real agent and
// Nebula. Its record lives in /run/station-testbed/<prefix>/testbed.json so `down` removes all it
// made, by pid (agents) and by name (namespaces carrying the prefix).
//
// From a test (prefix: the run prefix, 2-8 characters):
//   onCleanup('testbed', () => down(RUN_PREFIX));
//   const tb = await up({ prefix: RUN_PREFIX, stations: 3, env: { STATION_DOMAIN: 'mesh.internal' } });
//   const address = await formMesh(tb, 'alice');          // { s1: '100.x.0.1', s2: ..., s3: ... }
//   await stationApi(stationOf(tb, 's2'), 'POST', '/nodes', spec);   // admin token added for mutations
//   await stationExec(stationOf(tb, 's3'), ['ping', '-c1', address.s1!]);
import { mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { writeFileAtomicSync } from '../../agent/store/atomic-file.ts';
import { exec } from '../../agent/exec.ts';
import { removeNetns } from '../lib/netns.ts';
import { buildHome, buildInternet, buildStationNetns, listNetnsWithPrefix } from './network.ts';
import { spawnAgent, stationApi, stopAgent, waitReady, type StationRecord } from './stations.ts';
import { DEFAULT_POOL_MB, mountStationPool, unmountStationPool } from './pools.ts';
import { planTestbed, type PlanOptions } from './topology.ts';

export { stationApi, meshPing, meshPingMany, answeredPings, waitReady, type StationRecord } from './stations.ts';
export { planTestbed } from './topology.ts';

export const TESTBED_ROOT = process.env.STATION_TESTBED_ROOT ?? '/run/station-testbed';
export const DEFAULT_PREFIX = 'sttb';

export interface Testbed {
  prefix: string;
  dir: string;
  internet: string;
  namespaces: string[];
  stations: StationRecord[];
  /** the extra STATION_* environment every agent was started with (kept for restarts) */
  env: Record<string, string>;
}

export const testbedDir = (prefix: string): string => joinPath(TESTBED_ROOT, prefix);

function save(tb: Testbed): void {
  writeFileAtomicSync(joinPath(tb.dir, 'testbed.json'), `${JSON.stringify(tb, null, 2)}\n`, 0o600);
}

export function loadTestbed(prefix = DEFAULT_PREFIX): Testbed | undefined {
  const file = joinPath(testbedDir(prefix), 'testbed.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Testbed) : undefined;
}

export interface UpOptions extends Omit<PlanOptions, 'prefix'> {
  prefix?: string;
  /** extra STATION_* environment for every agent */
  env?: Record<string, string>;
  /** where node volumes live: 'dir' (default: plain directories, nothing mounted) or 'btrfs' (a loop-backed pool per station) */
  storage?: 'dir' | 'btrfs';
  /** size of each station's pool with storage 'btrfs' (default 512 MiB; sparse) */
  poolMb?: number;
}

/** Builds the networks and starts every agent; on failure removes what it made. */
export async function up(options: UpOptions): Promise<Testbed> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (loadTestbed(prefix) || (await listNetnsWithPrefix(prefix)).length)
    throw new Error(`a testbed with prefix ${prefix} exists; run "scripts/testbed down${prefix === DEFAULT_PREFIX ? '' : ` --prefix ${prefix}`}" first`);
  const plan = planTestbed({ ...options, prefix });
  const dir = testbedDir(prefix);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tb: Testbed = { prefix, dir, internet: plan.internet, namespaces: [], stations: [], env: options.env ?? {} };
  try {
    await buildInternet(plan, tb.namespaces);
    for (const s of plan.stations) await buildHome(plan, s, tb.namespaces);
    save(tb);
    for (const s of plan.stations) {
      // env is per station from here on (the pool's settings are added to the ones given)
      const stateDir = joinPath(dir, s.name, 'state');
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      const storage =
        options.storage === 'btrfs'
          ? await mountStationPool(stateDir, options.poolMb ?? DEFAULT_POOL_MB, `${prefix}-${s.name}`)
          : { STATION_STORAGE_DRIVER: 'dir' };
      tb.env = { ...storage, ...tb.env };
      tb.stations.push(spawnAgent(s, dir, tb.env));
      save(tb);
    }
    await Promise.all(tb.stations.map((st) => waitReady(st, 60_000)));
    return tb;
  } catch (error) {
    await down(prefix);
    throw error;
  }
}

/** Stops every agent (by pid), deletes every namespace of the prefix (by name) and the record. */
export async function down(prefix = DEFAULT_PREFIX): Promise<{ stopped: number; namespaces: number }> {
  const tb = loadTestbed(prefix);
  let stopped = 0;
  for (const st of tb?.stations ?? []) {
    await stopAgent(st.pid);
    stopped++;
  }
  const names = new Set([...(tb?.namespaces ?? []), ...(await listNetnsWithPrefix(prefix))]);
  for (const ns of names) await removeNetns(ns);
  // after the namespaces: their processes (nodes among them) no longer hold the pools
  for (const st of tb?.stations ?? []) await unmountStationPool(st.stateDir);
  rmSync(testbedDir(prefix), { recursive: true, force: true });
  return { stopped, namespaces: names.size };
}

/** The testbed's plan again, from its record (the same names, addresses and interfaces). */
function planOf(tb: Testbed) {
  return planTestbed({
    prefix: tb.prefix,
    stations: tb.stations.length,
    doubleNat: tb.stations.filter((s) => s.doubleNat).length,
    publicStations: tb.stations.filter((s) => s.public).length,
    names: tb.stations.map((s) => s.name),
  });
}

/** Restarts one station's agent (same state directory); `crash` kills it with SIGKILL first. */
export async function restartStation(tb: Testbed, name: string, options: { crash?: boolean } = {}): Promise<StationRecord> {
  const i = tb.stations.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`no station ${name}`);
  const old = tb.stations[i]!;
  await stopAgent(old.pid, options.crash ? 'SIGKILL' : 'SIGTERM');
  const fresh = spawnAgent(planOf(tb).stations[i]!, tb.dir, tb.env ?? {});
  tb.stations[i] = fresh;
  save(tb);
  await waitReady(fresh, 60_000);
  return fresh;
}

/**
 * Brings back a station whose namespace was removed (its agent killed: a power loss): its namespace on
 * its home LAN again, its pool mounted if it had one, and its agent on the same state directory.
 */
export async function returnStation(tb: Testbed, name: string): Promise<StationRecord> {
  const i = tb.stations.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`no station ${name}`);
  const plan = planOf(tb);
  await buildStationNetns(plan, plan.stations[i]!, tb.namespaces);
  const stateDir = tb.stations[i]!.stateDir;
  if (existsSync(joinPath(stateDir, 'storage', 'pool.img'))) await mountStationPool(stateDir, DEFAULT_POOL_MB, `${tb.prefix}-${name}`);
  const fresh = spawnAgent(plan.stations[i]!, tb.dir, tb.env ?? {});
  tb.stations[i] = fresh;
  save(tb);
  await waitReady(fresh, 60_000);
  return fresh;
}

export interface StationStatus {
  name: string;
  netns: string;
  api: string;
  meshAddress: string | null;
  public: boolean;
  doubleNat: boolean;
  pid: number;
  running: boolean;
}

export async function status(prefix = DEFAULT_PREFIX): Promise<{ stations: StationStatus[] }> {
  const tb = loadTestbed(prefix);
  if (!tb) return { stations: [] };
  const stations = await Promise.all(
    tb.stations.map(async (st) => {
      const mesh = await stationApi<{ address: string | null }>(st, 'GET', '/mesh', undefined, 5).catch(() => undefined);
      return {
        name: st.name,
        netns: st.netns,
        api: st.api,
        meshAddress: mesh?.body?.address ?? null,
        public: st.public,
        doubleNat: st.doubleNat,
        pid: st.pid,
        running: mesh !== undefined,
      };
    }),
  );
  return { stations };
}

const station = (tb: Testbed, name: string): StationRecord => {
  const st = tb.stations.find((s) => s.name === name);
  if (!st) throw new Error(`no station ${name} in testbed ${tb.prefix}`);
  return st;
};

function ok<T>(r: { status: number; body: T }, what: string): T {
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** `station mesh create --owner OWNER` on one station. Returns its mesh address. */
export async function createMesh(tb: Testbed, name: string, owner: string): Promise<string> {
  return ok(await stationApi<{ address: string }>(station(tb, name), 'POST', '/mesh', { owner }), `create mesh on ${name}`).address;
}

/**
 * A second owner's mesh whose block differs from `other`'s. Each owner's /16 comes from its CA's
 * fingerprint, so two new CAs share one 1 time in 64, and then cannot trust each other (trust refuses
 * the overlap, as it must). The remedy a person would take: leave and make a new CA.
 */
export async function createMeshApartFrom(tb: Testbed, name: string, owner: string, other: string): Promise<string> {
  const block = (address: string) => address.split('.').slice(0, 2).join('.');
  for (let tries = 1; ; tries++) {
    const address = await createMesh(tb, name, owner);
    if (block(address) !== block(other)) return address;
    if (tries === 5) throw new Error(`${owner}'s CA landed in block ${block(other)} five times`);
    ok(await stationApi(station(tb, name), 'POST', '/mesh/leave', {}), `${name} leaves its mesh to make a new CA`);
  }
}

export async function invite(tb: Testbed, inviter: string): Promise<string> {
  return ok(await stationApi<{ code: string }>(station(tb, inviter), 'POST', '/mesh/invites', {}), `invite on ${inviter}`).code;
}

/** Invites `joiner` from `inviter` and joins it. Returns its mesh address. */
export async function join(tb: Testbed, inviter: string, joiner: string): Promise<string> {
  const code = await invite(tb, inviter);
  return ok(await stationApi<{ address: string }>(station(tb, joiner), 'POST', '/mesh/join', { code }), `join ${joiner}`).address;
}

/** One owner's mesh over all stations: the first makes it, the others join by invite. */
export async function formMesh(tb: Testbed, owner = 'testbed'): Promise<Record<string, string>> {
  const [first, ...rest] = tb.stations;
  const addresses: Record<string, string> = { [first!.name]: await createMesh(tb, first!.name, owner) };
  for (const st of rest) addresses[st.name] = await join(tb, first!.name, st.name);
  return addresses;
}

export { station as stationOf };

/** The pids of Nebula processes running in a station's namespace. */
export async function nebulaPids(st: StationRecord): Promise<number[]> {
  const pids = (await exec(['ip', 'netns', 'pids', st.netns], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nebula';
    } catch {
      return false;
    }
  });
}

/** Runs a program inside a station's namespace (e.g. dig, curl, ping); returns its result. */
export function stationExec(st: StationRecord, argv: string[], options: { allowFailure?: boolean; timeoutMs?: number; input?: string } = {}) {
  return exec(argv, { ...options, netns: st.netns });
}
