// Part 1: write and read throughput inside a node on its btrfs volume against the same fio jobs on
// the raw pool from the host (a directory on the pool's top level, no subvolume, no container), in
// the same run. Rounds alternate which side goes first; the files are removed before each write so
// both sides start from the same state, and the pool file's host cache is dropped before reads.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { median } from '../lib/stats.ts';
import { type Bench, dropCaches, envNumber, log, MiB, nodeExec } from './context.ts';
import { bundleFio, fioJobArgs, type FioJob } from './fio.ts';
import { parseFio, type FioResult } from './parse.ts';

export interface IoRow {
  job: FioJob;
  node: FioResult[];
  host: FioResult[];
}

const JOBS: FioJob[] = ['seqwrite', 'seqread', 'randwrite'];

/** `node` is a running node with volumes `data` (at /data) and `tools` (at /tools). */
export async function measureIo(bench: Bench, node: string): Promise<IoRow[]> {
  const rounds = envNumber('BENCH_IO_ROUNDS', 3);
  const sizes = { seqMB: envNumber('BENCH_SEQ_MB', 512), randMB: envNumber('BENCH_RAND_MB', 64), randSeconds: envNumber('BENCH_RAND_SECONDS', 5) };
  const tools = bench.layout.volumePath({ node, volume: 'tools' });
  const fio = await bundleFio(tools);
  const sides = {
    node: { dir: '/data', hostDir: bench.layout.volumePath({ node, volume: 'data' }) },
    host: { dir: join(bench.poolMount, `${bench.prefix}-raw`), hostDir: join(bench.poolMount, `${bench.prefix}-raw`) },
  };
  await mkdir(sides.host.dir);
  const rows: IoRow[] = JOBS.map((job) => ({ job, node: [], host: [] }));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? (['node', 'host'] as const) : (['host', 'node'] as const);
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
  for (const side of Object.values(sides)) {
    await rm(join(side.hostDir, 'seq'), { force: true });
    await rm(join(side.hostDir, 'rand'), { force: true });
  }
  return rows;
}

export function ioSummary(rows: IoRow[]) {
  return Object.fromEntries(
    rows.map((row) => {
      const node = median(row.node.map((r) => r.bytesPerSecond));
      const host = median(row.host.map((r) => r.bytesPerSecond));
      const iops = (list: FioResult[]) => Number(median(list.map((r) => r.iops)).toFixed(0));
      const ratio = Number((node / host).toFixed(3));
      return [
        row.job,
        {
          nodeMiBps: Number((node / MiB).toFixed(1)),
          rawPoolMiBps: Number((host / MiB).toFixed(1)),
          nodeIops: iops(row.node),
          rawPoolIops: iops(row.host),
          rounds: row.node.length,
          ratio,
          goal: '>= 0.95',
          met: ratio >= 0.95,
        },
      ];
    }),
  );
}
