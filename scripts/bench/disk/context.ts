// What every part of the disk benchmark shares: the run's names (all carry the prefix stbdXXXX),
// the station's pool and volume driver, the agent's API, and the list of things to undo at the end.
import { exec } from '../../../agent/exec.ts';
import type { BtrfsVolumeDriver } from '../../../agent/storage/btrfs-driver.ts';
import type { VolumeLayout } from '../../../agent/storage/layout.ts';

export interface NodeExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Bench {
  prefix: string;
  ns: string;
  /** the run's directory: state, pool file, rclone store, restic cache */
  dir: string;
  poolFile: string;
  poolMount: string;
  lxcPath: string;
  driver: BtrfsVolumeDriver;
  layout: VolumeLayout;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** undone in reverse order at the end, also after a failure */
  onCleanup(what: string, undo: () => Promise<void>): void;
}

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export const MiB = 1024 * 1024;

export const envNumber = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${JSON.stringify(text)}: must be a positive number`);
  return n;
};

export async function nodeExec(bench: Bench, node: string, command: string[], timeoutSeconds = 600): Promise<NodeExecResult> {
  const r = await bench.api<NodeExecResult>('POST', `/nodes/${node}/exec`, { command, timeoutSeconds });
  if (r.exitCode !== 0) throw new Error(`${command.join(' ')} in node ${node}: exit ${r.exitCode}: ${(r.stderr || r.stdout).slice(-500)}`);
  return r;
}

/**
 * Makes the next reads come from the disk: what btrfs has dirty goes down to the loop device, the
 * pool file is synced, then the host's cached pages of the pool file (and of `files`) are dropped
 * (posix_fadvise DONTNEED through GNU dd; only these files, not the machine's whole page cache).
 */
export async function dropCaches(bench: Bench, files: string[] = []): Promise<void> {
  await exec(['sync', '-f', bench.poolMount]);
  await exec(['sync', bench.poolFile]);
  const all = [bench.poolFile, ...files];
  const script = 'for f; do dd if="$f" iflag=nocache count=0 status=none || exit 1; done';
  for (let i = 0; i < all.length; i += 500) await exec(['sh', '-c', script, 'sh', ...all.slice(i, i + 500)], { timeoutMs: 120_000 });
}
