// fio for the disk benchmark, runnable both on the host and inside a busybox node: the host's fio,
// every library ldd names and the dynamic loader copied into one directory, started through that
// loader (`ld-linux --library-path DIR DIR/fio`). The node needs no libc of its own, and the host and
// the node run the very same binaries, so only where the I/O happens differs.
import { basename, join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { parseLdd } from './parse.ts';

/** Copies fio and what it loads into `dir` (a directory the node also sees); returns the argv prefix relative to `seenAs`. */
export async function bundleFio(dir: string): Promise<(seenAs: string) => string[]> {
  const fio = (await exec(['sh', '-c', 'command -v fio'], { allowFailure: true })).stdout.trim();
  if (!fio) throw new Error('fio is not installed: `./scripts/setup run test` installs it (Debian package fio)');
  const { loader, libraries } = parseLdd((await exec(['ldd', fio])).stdout);
  await exec(['cp', '-L', fio, loader, ...libraries, dir]);
  return (seenAs) => [join(seenAs, basename(loader)), '--library-path', seenAs, join(seenAs, basename(fio))];
}

export type FioJob = 'seqwrite' | 'seqread' | 'randwrite';

export interface FioSizes {
  seqMB: number;
  randMB: number;
  randSeconds: number;
}

/** The job's fio options; files go in `dir` (seq: written by seqwrite, read back by seqread). */
export function fioJobArgs(job: FioJob, dir: string, sizes: FioSizes): string[] {
  const common = ['--ioengine=psync', '--disk_util=0', '--output-format=json'];
  switch (job) {
    case 'seqwrite':
      // buffered writes, then one fsync inside the timed run: what a program saving a big file does
      return [`--name=${job}`, `--filename=${join(dir, 'seq')}`, '--rw=write', '--bs=1M', `--size=${sizes.seqMB}M`, '--end_fsync=1', ...common];
    case 'seqread':
      // invalidate: fio drops the file's pages first (the pool file's pages on the host are dropped by the caller)
      return [`--name=${job}`, `--filename=${join(dir, 'seq')}`, '--rw=read', '--bs=1M', `--size=${sizes.seqMB}M`, '--invalidate=1', ...common];
    case 'randwrite':
      // a database's pattern: 4 KiB at random offsets, each made durable with fdatasync before the next
      return [
        `--name=${job}`,
        `--filename=${join(dir, 'rand')}`,
        '--rw=randwrite',
        '--bs=4k',
        `--size=${sizes.randMB}M`,
        '--fdatasync=1',
        `--runtime=${sizes.randSeconds}`,
        '--time_based',
        ...common,
      ];
  }
}
