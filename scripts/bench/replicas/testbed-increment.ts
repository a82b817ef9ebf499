// The testbed part's increment: node `blob` on s1 with one Inactive copy on s2 and no snapshot
// schedule (sets on demand only, so each increment is exactly what was written, never split by a
// scheduled set, and one stream at a time). Each round writes `bytes` of random data in the node,
// takes a set and waits for s2's pull (replicas.copy.sent: bytes and seconds of the increment over
// the mesh, as the Active measured it: both sides' snapshots listed, the pull asked for, the stream
// through s2's fetch from s1's API over Nebula into btrfs receive). Baseline in the same round, on
// s1's own pool: `btrfs send -p PARENT SNAP | btrfs receive DIR` of the very same increment (the two
// snapshots the agent made), into a directory of the run's own beside the agent's volumes, where
// the previous round's snapshot was received first (as on a replica). No sync on either side.
// And the transport alone: s2 fetching the file just written from s1's snapshot over the mesh (the
// station API's file route, curl in s2's namespace to s1's mesh address): Nebula and HTTP without btrfs.
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { VolumeLayout } from '../../../agent/storage/layout.ts';
import { stationOf, type Testbed } from '../../testbed-lib/index.ts';
import { API_PORT } from '../../testbed-lib/topology.ts';
import { call, type EventStream, inNode, localSendReceive, stationExec, waitFor } from './testbed-station.ts';

export interface IncrementRound {
  mesh: { bytes: number; seconds: number };
  local: { bytes: number; seconds: number };
  /** the written file alone, fetched over the mesh from the Active's API */
  transport: { bytes: number; seconds: number };
}

const NODE = 'blob';
const [ACTIVE, INACTIVE] = ['s1', 's2'];
const MiB = 1024 * 1024;

export async function measureIncrements(
  tb: Testbed,
  events: Record<string, EventStream>,
  o: { prefix: string; rounds: number; bytes: number; mesh: Record<string, string>; log: (line: string) => void },
): Promise<IncrementRound[]> {
  const spec = {
    name: NODE,
    resources: { memoryMB: 64 },
    volumes: [{ name: 'data', path: '/srv' }],
    modules: [{ name: 'idle', run: 'exec sleep 2147483647' }],
    disk: { snapshotSeconds: 0, backupSeconds: 0, copies: 0 },
    // automatic failover: deleting the node at the end must not let the copy take it over
    replicas: { stations: [INACTIVE] },
  };
  await call(tb, ACTIVE, 'POST', '/nodes', spec, 180);
  const pool = join(stationOf(tb, ACTIVE).stateDir, 'storage', 'pool');
  const layout = new VolumeLayout(join(pool, 'volumes'));
  const snapshot = (set: string) => layout.snapshotPath({ node: NODE, volume: 'data' }, set);
  const dir = join(pool, `${o.prefix}-local`);
  await mkdir(dir);
  const received: string[] = [];
  const token = (await readFile(join(stationOf(tb, ACTIVE).stateDir, 'admin-token'), 'utf8')).trim();
  const fetchFile = async (set: string, path: string) => {
    const url = `http://${o.mesh[ACTIVE]}:${API_PORT}/api/v1/nodes/${NODE}/snapshots/${set}/files?volume=data&path=${path}`;
    const argv = [
      'curl',
      '-sS',
      '--fail',
      '--max-time',
      '300',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download} %{time_total}',
      '-H',
      `authorization: Bearer ${token}`,
      url,
    ];
    const [bytes, seconds] = (await stationExec(stationOf(tb, INACTIVE), argv, { timeoutMs: 310_000 }, [token])).stdout.trim().split(' ').map(Number);
    return { bytes: bytes!, seconds: seconds! };
  };
  /** a set on demand, and s2's pull of it */
  const takeSet = async () => {
    const since = Date.now();
    const set: string = (await call(tb, ACTIVE, 'POST', `/nodes/${NODE}/snapshots`, undefined, 120)).name;
    const ours = (d: { node: string; station: string; snapshot?: string }) => d.node === NODE && d.station === INACTIVE;
    const done = await waitFor(
      `${INACTIVE}'s pull of ${set}`,
      async () =>
        events[ACTIVE]!.find('replicas.copy.sent', since, (d) => ours(d) && d.snapshot === set) ?? events[ACTIVE]!.find('replicas.copy.failed', since, ours),
      120_000,
      50,
    ).catch(async (error: Error) => {
      const view = await call(tb, ACTIVE, 'GET', `/nodes/${NODE}/replicas`, undefined, 10).catch((e: Error) => e.message);
      throw new Error(`${error.message}; ${ACTIVE} shows ${JSON.stringify(view)}`);
    });
    if (done.type === 'replicas.copy.failed') throw new Error(`${INACTIVE}'s pull of ${set} failed: ${done.data.reason}`);
    return { set, sent: done.data as { bytes: number; seconds: number; whole: boolean } };
  };
  const rounds: IncrementRound[] = [];
  try {
    let previous = await takeSet();
    await localSendReceive(null, snapshot(previous.set), dir);
    received.push(previous.set);
    for (let r = 0; r < o.rounds; r++) {
      const mb = o.bytes / MiB;
      await inNode(tb, ACTIVE, NODE, `dd if=/dev/urandom of=/srv/increment-${r} bs=1048576 count=${mb} 2>/dev/null && sync`);
      const next = await takeSet();
      if (next.sent.whole) throw new Error(`${INACTIVE} pulled ${next.set} whole, not as an increment`);
      const local = await localSendReceive(snapshot(previous.set), snapshot(next.set), dir);
      received.push(next.set);
      if (!(await stat(join(dir, next.set)).catch(() => null))?.isDirectory()) throw new Error(`the local receive of ${next.set} left nothing in ${dir}`);
      const transport = await fetchFile(next.set, `increment-${r}`);
      const round = { mesh: { bytes: next.sent.bytes, seconds: next.sent.seconds }, local, transport };
      rounds.push(round);
      const rate = (x: { bytes: number; seconds: number }) => `${(x.bytes / MiB).toFixed(1)} MiB in ${x.seconds.toFixed(2)} s`;
      o.log(
        `increment round ${r + 1}: over the mesh ${rate(round.mesh)}; local send | receive ${rate(round.local)}; ` +
          `the file alone over the mesh ${rate(round.transport)}`,
      );
      previous = next;
    }
    return rounds;
  } finally {
    for (const set of received.reverse()) await exec(['btrfs', 'subvolume', 'delete', join(dir, set)], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
    const deletedAt = Date.now();
    await call(tb, ACTIVE, 'DELETE', `/nodes/${NODE}?volumes=delete`, undefined, 120).catch((error: Error) => o.log(`deleting ${NODE}: ${error.message}`));
    // the copy goes with it, and is never promoted (the next stage's node would share the machine with it)
    await events[INACTIVE]!.wait('replicas.copy.dropped', deletedAt, (d) => d.node === NODE, 60_000);
  }
}
