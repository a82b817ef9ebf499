// Infinite Disk tests in the testbed (real agents in namespaces, real Nebula, btrfs pools, restic and
// rclone): calls to a station's API and CLI, a station removed outright (the box burns), a node's
// copies as the station reports them, a station's event stream recorded from the start, and a
// peer's repository read on its disk with the owner's key (on a throw-away copy, so the store
// itself is never touched).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { exec } from '../../agent/exec.ts';
import { removeNetns } from '../../scripts/lib/netns.ts';
import { type SeenEvent, StationEventStream } from '../../scripts/testbed-lib/event-stream.ts';
import { stationApi, stationOf, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { unmountStationPool } from '../../scripts/testbed-lib/pools.ts';
import { stopAgent } from '../../scripts/testbed-lib/stations.ts';
import { onCleanup } from './cleanup.ts';
import { RUN_PREFIX } from './run-prefix.ts';

import { waitFor } from './wait.ts';

export { waitFor };

const CLI = new URL('../../scripts/cli/main.ts', import.meta.url).pathname;

export const api = <T = any>(tb: Testbed, station: string, method: string, path: string, body?: unknown, timeoutS = 60) =>
  stationApi<T>(stationOf(tb, station), method, path, body, timeoutS);

/** A GET with the admin token whose answer is not JSON (a file read from a copy): status and text. */
export async function apiText(tb: Testbed, station: string, path: string, timeoutS = 300): Promise<{ status: number; text: string }> {
  const st = stationOf(tb, station);
  const token = readFileSync(join(st.stateDir, 'admin-token'), 'utf8').trim();
  const out = await exec(
    ['curl', '-sS', '--max-time', String(timeoutS), '-H', `authorization: Bearer ${token}`, '-w', '\n%{http_code}', `${st.api}/api/v1${path}`],
    {
      netns: st.netns,
      timeoutMs: (timeoutS + 5) * 1000,
      secrets: [token],
    },
  );
  const nl = out.stdout.lastIndexOf('\n');
  return { status: Number(out.stdout.slice(nl + 1)), text: out.stdout.slice(0, nl) };
}

/**
 * Node `web` on `station`: busybox httpd serving its one volume (/srv), with these disk settings;
 * `content` is written to /srv/index.html and a snapshot set taken, so a backup has something to copy.
 */
export async function webNodeWithSet(tb: Testbed, station: string, disk: Record<string, number>, content: string, memoryMB = 32): Promise<void> {
  const spec = {
    name: 'web',
    resources: { memoryMB },
    volumes: [{ name: 'data', path: '/srv' }],
    modules: [{ name: 'httpd', run: 'exec httpd -f -p 80 -h /srv' }],
    disk,
  };
  const made = await api(tb, station, 'POST', '/nodes', spec, 180);
  assert.is(made.status, 201, JSON.stringify(made.body));
  assert.is((await nodeExec(tb, station, 'web', ['sh', '-c', `echo ${content} > /srv/index.html && sync`])).exitCode, 0);
  const set = await api(tb, station, 'POST', '/nodes/web/snapshots', undefined, 120);
  assert.is(set.status, 201, JSON.stringify(set.body));
}

/** Runs a command in a node (POST /nodes/:name/exec); fails the test when the call itself fails. */
export async function nodeExec(tb: Testbed, station: string, node: string, command: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await api(tb, station, 'POST', `/nodes/${node}/exec`, { command }, 120);
  assert.is(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** `station ARGS` on a station, as its owner would type it there. */
export function stationCli(tb: Testbed, station: string, ...args: string[]) {
  const st = stationOf(tb, station);
  return exec([process.execPath, CLI, ...args, '--url', st.api], {
    netns: st.netns,
    env: { STATION_STATE_DIR: st.stateDir },
    allowFailure: true,
    timeoutMs: 600_000,
  });
}

/** Waits until each station's copy store serves (every member got the owner's key and its store runs). */
export async function waitStoresUp(tb: Testbed, stations: string[]): Promise<void> {
  for (const s of stations) {
    await waitFor(`${s} store up`, async () => (await api(tb, s, 'GET', '/disk')).body?.store?.running === true, 180_000, 500);
  }
}

/**
 * The box burns: the agent dies (SIGKILL), the named containers stop, the namespace goes with every
 * process still in it (Nebula, an orphaned restic), the pool is unmounted. Nothing of it answers again.
 */
export async function removeStationOutright(tb: Testbed, name: string, containers: string[] = []): Promise<void> {
  const st = stationOf(tb, name);
  await stopAgent(st.pid, 'SIGKILL');
  // LXC's command socket is abstract, so per network namespace: stopped from the station's own
  for (const c of containers) await exec(['lxc-stop', '-k', '-n', c, '-P', join(st.stateDir, 'lxc')], { allowFailure: true, netns: st.netns });
  await removeNetns(st.netns);
  await unmountStationPool(st.stateDir);
}

export interface CopyView {
  station: string;
  state: string;
  lastSuccess: string | null;
  snapshot: string | null;
  reason: string | null;
}
export interface CopiesView {
  want: number;
  have: number;
  state: string;
  reason: string | null;
  list: CopyView[];
}

/** A node's copies as GET /disk shows them (what the page renders: 2/2 green, 1/2 amber with why). */
export async function copiesOf(tb: Testbed, station: string, node: string): Promise<CopiesView | null> {
  const r = await api(tb, station, 'GET', '/disk');
  assert.is(r.status, 200, JSON.stringify(r.body));
  return (r.body.nodes as { name: string; copies: CopiesView | null }[]).find((n) => n.name === node)?.copies ?? null;
}

/**
 * A station's GET /api/v1/events stream, recorded from now on (scripts/testbed-lib/event-stream.ts),
 * ended at cleanup or stop().
 */
export class EventRecorder extends StationEventStream {
  constructor(tb: Testbed, station: string) {
    super(stationOf(tb, station));
    onCleanup(`event stream of ${station}`, () => this.stop());
  }

  find(type: string, match: (data: any) => boolean = () => true): SeenEvent | undefined {
    return this.events.find((e) => e.type === type && match(e.data));
  }
}

/** Where a peer's store keeps the repository of `origin`'s node (rclone serve restic's local layout). */
export const storeRepository = (tb: Testbed, peer: string, origin: string, owner: string, repository: string): string =>
  join(stationOf(tb, peer).stateDir, 'disk', 'store', `${origin}.${owner}`, repository);

/** The snapshot files of a repository on a peer's disk (restic writes one, last, per finished backup). */
export async function snapshotFiles(dir: string): Promise<string[]> {
  const r = await exec(['find', join(dir, 'snapshots'), '-type', 'f', '-printf', '%f\n'], { allowFailure: true });
  return r.stdout.split('\n').filter(Boolean).sort();
}

/**
 * A shell script (calling `restic --no-cache ...`) run on a throw-away copy of a peer's repository
 * (locks left out) with the owner's key of `keyStation`: reads what the store holds without adding
 * a lock file to it. `$RESTIC_REPOSITORY` is the copy.
 */
export async function resticOnCopy(tb: Testbed, keyStation: string, repoDir: string, script: string) {
  const tmp = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-repo-`));
  try {
    await exec(['cp', '-a', `${repoDir}/.`, join(tmp, 'repo')]);
    await rm(join(tmp, 'repo', 'locks'), { recursive: true, force: true });
    return await exec(['sh', '-c', script], {
      cwd: tmp,
      env: { RESTIC_REPOSITORY: join(tmp, 'repo'), RESTIC_PASSWORD_FILE: join(stationOf(tb, keyStation).stateDir, 'disk', 'owner.key') },
      allowFailure: true,
      timeoutMs: 600_000,
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
