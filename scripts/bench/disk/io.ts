// Part 1: write and read throughput inside a node on its btrfs volume against the same fio jobs on
// the raw pool from the host (a directory on the pool's top level: no subvolume, no container), in
// the same run, each round measuring the sides back to back (the order rotates from round to round);
// the ratio is the median of the rounds' own ratios, so a load that comes and goes on a shared
// machine hits both sides of a pair alike. A third side, the host writing into the node's volume
// directly, tells a container's cost from a subvolume's. Files are removed before each write so every
// side starts alike, and the pool file's host cache is dropped before each job.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { median } from '../lib/stats.ts';
import { type Bench, dropCaches, envNumber, log, MiB, nodeExec } from './context.ts';
import { bundleFio, fioJobArgs, type FioJob } from './fio.ts';
import { parseFio, type FioResult } from './parse.ts';

type Side = 'node' | 'host' | 'hostOnVolume';

export interface IoRow {
  job: FioJob;
  node: FioResult[];
  host: FioResult[];
  hostOnVolume: FioResult[];
}

const JOBS: FioJob[] = ['seqwrite', 'seqread', 'randwrite'];

/** `node` is a running node with volumes `data` (at /data) and `tools` (at /tools). */
export async function measureIo(bench: Bench, node: string): Promise<IoRow[]> {
  const rounds = envNumber('BENCH_IO_ROUNDS', 9);
  const sizes = { seqMB: envNumber('BENCH_SEQ_MB', 256), randMB: envNumber('BENCH_RAND_MB', 32), randSeconds: envNumber('BENCH_RAND_SECONDS', 3) };
  const tools = bench.layout.volumePath({ node, volume: 'tools' });
  const fio = await bundleFio(tools);
  const volume = bench.layout.volumePath({ node, volume: 'data' });
  const raw = join(bench.poolMount, `${bench.prefix}-raw`);
  const sides: Record<Side, { dir: string; hostDir: string }> = {
    node: { dir: '/data', hostDir: volume },
    host: { dir: raw, hostDir: raw },
    hostOnVolume: { dir: join(volume, 'host'), hostDir: join(volume, 'host') },
  };
  await mkdir(raw);
  await mkdir(sides.hostOnVolume.dir);
  const rows: IoRow[] = JOBS.map((job) => ({ job, node: [], host: [], hostOnVolume: [] }));
  const rotation: Side[] = ['host', 'node', 'hostOnVolume'];
  for (let round = 0; round < rounds; round++) {
    const order = [...rotation.slice(round % 3), ...rotation.slice(0, round % 3)];
    for (const row of rows) {
      for (const side of order) {
        const { dir, hostDir } = sides[side];
        if (row.job === 'seqwrite') await rm(join(hostDir, 'seq'), { force: true });
        if (row.job === 'randwrite') await rm(join(hostDir, 'rand'), { force: true });
        await dropCaches(bench);
        const args = fioJobArgs(row.job, dir, sizes);
        const stdout =
          side === 'node'
            ? (await nodeExec(bench, node, [...fio('/tools'), ...args], 900)).stdout
            : (await exec([...fio(tools), ...args], { timeoutMs: 900_000 })).stdout;
        const result = parseFio(stdout, row.job === 'seqread' ? 'read' : 'write');
        row[side].push(result);
        log(`io round ${round + 1} ${row.job} ${side}: ${(result.bytesPerSecond / MiB).toFixed(1)} MiB/s, ${result.iops.toFixed(0)} IOPS`);
      }
    }
  }
  await rm(raw, { recursive: true, force: true });
  await rm(sides.hostOnVolume.dir, { recursive: true, force: true });
  for (const name of ['seq', 'rand']) await rm(join(volume, name), { force: true });
  return rows;
}

export function ioSummary(rows: IoRow[]) {
  return Object.fromEntries(
    rows.map((row) => {
      const mibps = (list: FioResult[]) => Number((median(list.map((r) => r.bytesPerSecond)) / MiB).toFixed(1));
      const iops = (list: FioResult[]) => Number(median(list.map((r) => r.iops)).toFixed(0));
      const paired = (list: FioResult[]) => Number(median(list.map((r, i) => r.bytesPerSecond / row.host[i]!.bytesPerSecond)).toFixed(3));
      const ratio = paired(row.node);
      return [
        row.job,
        {
          nodeMiBps: mibps(row.node),
          rawPoolMiBps: mibps(row.host),
          hostOnVolumeMiBps: mibps(row.hostOnVolume),
          nodeIops: iops(row.node),
          rawPoolIops: iops(row.host),
          hostOnVolumeIops: iops(row.hostOnVolume),
          rounds: row.node.length,
          /** median over the rounds of node / raw pool measured back to back */
          ratio,
          hostOnVolumeRatio: paired(row.hostOnVolume),
          goal: '>= 0.95',
          met: ratio >= 0.95,
        },
      ];
    }),
  );
}
